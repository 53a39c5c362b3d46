"""`kind = "process"`: any command — the app under test, in any language."""

from __future__ import annotations

from pathlib import Path

from ...services import Service
from ...supervisor import Probe, TcpProbe
from ._build import BuildStep
from ._spec import CoverageSpec, ProcessSpec

_NODE = ("node", "nodejs", "npm", "npx", "yarn", "pnpm")

__all__ = ["ProcessService"]


class _Exited:
    """A job's probe: it never passes; the job is ready when its process exited 0 (`ready_on_exit`)."""

    def describe(self) -> str:
        return "the job to exit 0"

    def check(self, target: object) -> bool:
        return False


class ProcessService(Service):
    spec: ProcessSpec

    def wants_ports(self) -> int:
        return self.spec.replicas if self.spec.port is not False and not self.spec.job else 0

    def ready_on_exit(self) -> bool:
        return self.spec.job

    def fixed_port(self) -> int | None:
        port = self.spec.port
        return port if isinstance(port, int) and not isinstance(port, bool) else None

    def default_probe(self) -> Probe | None:
        if self.spec.job:
            return _Exited()
        return TcpProbe() if self.spec.port is not False else None

    def cwd(self) -> Path:
        if self.spec.cwd is None:
            return self.ctx.stack_root
        p = Path(self.spec.cwd).expanduser()
        return p if p.is_absolute() else self.ctx.stack_root / p

    def argv(self, port: int | None) -> list[str]:
        command = self.spec.command
        if isinstance(command, str):
            text = self.resolve(command, "command", port)
            return ["/bin/sh", "-c", "exec " + text]
        return [self.resolve(part, f"command.{i}", port) for i, part in enumerate(command)]

    def prepare(self, deadline: float) -> None:
        """Run the `build` (once, cached by its inputs) before the service starts."""
        import time

        if self.spec.build is None:
            return
        commands = [self.resolve(c, f"build.{i}" if isinstance(self.spec.build, list) else "build")
                    for i, c in enumerate(self.spec._builds())]
        self.argv(self.ports[0] if self.ports else None)  # the runtimes the command names count too
        toolchains = {name: str(self.ctx.runtime(name, self.name).version) for name in sorted(self.runtimes_used)}
        step = BuildStep(self.name, commands, self.cwd(), list(self.spec.build_inputs), list(self.spec.build_outputs),
                         self.ctx.stack_root, toolchains, self.spec.build_timeout,
                         self.ctx.logs_dir / f"{self.name}.build.log")
        t0 = time.monotonic()
        env = self.runtime_env(self.base_env())
        step.run(env)
        self.build_seconds = time.monotonic() - t0

    def coverage_language(self, argv: list[str]) -> str:
        spec = self.spec.coverage
        if isinstance(spec, CoverageSpec) and spec.language:
            return spec.language
        words = " ".join(argv).replace("/", " ").split()
        return "node" if {"node", "npm", "npx"} & self.runtimes_used or any(w in _NODE for w in words[:3]) \
            else "python"

    def _coverage_env(self, argv: list[str], env: dict[str, str]) -> dict[str, str]:
        if self.spec.coverage is False:
            return {}
        from ...coverage import CoverageSession

        session = CoverageSession.current()
        if session is None:  # the run started one when a service asks (see StackRunner.up)
            self.ctx.warn(f"service '{self.name}': `coverage = true` but no coverage session is running")
            return {}
        spec = self.spec.coverage if isinstance(self.spec.coverage, CoverageSpec) else CoverageSpec()
        if self.coverage_language(argv) == "node":
            return session.node_env(self.name, env, self.cwd())
        source = [str((self.cwd() / s).resolve()) if "/" in s or (self.cwd() / s).exists() else s for s in spec.source]
        return session.python_env(self.name, self.cwd(), source, list(spec.omit))

    def launch(self) -> None:
        ports: list[int | None] = list(self.ports) or [None] * self.spec.replicas
        for index, port in enumerate(ports):
            argv = self.argv(port)
            env = self.runtime_env(self.base_env(port))
            env.update(self._coverage_env(argv, env))
            if port is not None:
                env["PORT"] = str(port)
            env.setdefault("PYTHONUNBUFFERED", "1")
            env["STACKRIG_SERVICE"] = self.name
            env["STACKRIG_REPLICA"] = str(index)
            self.spawn(argv, env, self.cwd(), port, index=index)
