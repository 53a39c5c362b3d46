"""What every service kind provides to the stack runner.

A service turns its spec into processes: ``prepare()`` does the slow,
cacheable work (find binaries, build a data directory), ``launch()`` starts
the process(es), ``probe()`` says how to know it is ready and
``after_ready()`` does anything that needs the running server.  Attributes
(``host``, ``port``, ``url``, ...) are known before start, because ports are
allocated up front, so any service may reference any other.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from .._runlog import RUN_LOG, append_run_log
from ..config import Reference, ServiceSpec, SettingsSpec, interpolate
from ..errors import ConfigError
from ..supervisor import (
    MARKER_ENV,
    CommandProbe,
    HttpProbe,
    LogProbe,
    ManagedProcess,
    PortLease,
    Probe,
    ProbeTarget,
    ProcessUser,
    TcpProbe,
    Watchdog,
)
from ._providers import Binary, BinarySpec, find_binary

__all__ = ["RunContext", "Service", "Instance", "ServiceFactory"]


@dataclass
class RunContext:
    """Everything about the current run that services need."""

    run_id: str
    stack_root: Path
    stack_file: Path
    logs_dir: Path
    data_dir: Path
    socket_dir: Path  # short: Unix sockets go here, never under a deep project or data folder
    watchdog: Watchdog
    user: ProcessUser | None  # the account for servers that refuse root (None: not root)
    cancelled: threading.Event = field(default_factory=threading.Event)
    # name -> service, filled by the runner so references can be resolved
    services: dict[str, Service] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    warnings: list[str] = field(default_factory=list)
    _runtimes: dict[str, Binary] = field(default_factory=dict)
    settings: SettingsSpec | None = None  # the stack file's [stackrig] table

    def register(self, proc: ManagedProcess) -> None:
        if proc.pid is not None:
            self.watchdog.watch(proc.pid)

    def unregister(self, proc: ManagedProcess) -> None:
        if proc.pid is not None:
            self.watchdog.forget(proc.pid)

    def runtime(self, name: str, service: str) -> Binary:
        """A language runtime (``${node}``, ``${go}``) from the providers, found once per run."""
        from ._runtimes import RUNTIMES

        with self.lock:
            found = self._runtimes.get(name)
        if found is None:
            found = find_binary(RUNTIMES[name], service=service)
            with self.lock:
                self._runtimes[name] = found
        return found

    def runtimes_found(self) -> dict[str, Binary]:
        """The runtimes this run's services named, with what they run on (npm: node)."""
        from ._runtimes import NEEDS

        with self.lock:
            names = list(self._runtimes)
        for name in names:
            for need in NEEDS.get(name, ()):
                self.runtime(need, "stackrig")
        with self.lock:
            return dict(self._runtimes)

    @property
    def run_log(self) -> Path:
        """stackrig's own log of the run: background failures and warnings."""
        return self.logs_dir / RUN_LOG

    def warn(self, message: str) -> None:
        """Record something the user must hear about but that does not fail the run (a background
        step that failed): in the run's log, and in `warnings` (shown by the CLI and the report)."""
        with self.lock:
            self.warnings.append(message)
            append_run_log(self.logs_dir, message)


@dataclass
class Instance:
    """One running process of a service (a service with `replicas` has several)."""

    process: ManagedProcess
    port: int | None
    target: ProbeTarget


class Service:
    """Base of the service kinds: how one service of the stack file becomes processes."""

    # the executable this kind runs, when it has one (providers find it; `doctor` shows it)
    binary_spec: ClassVar[BinarySpec | None] = None

    def __init__(self, spec: ServiceSpec, ctx: RunContext) -> None:
        self.spec = spec
        self.name = spec.name
        self.kind = spec.kind
        self.ctx = ctx
        self.binary: Binary | None = None
        self.leases: list[PortLease] = []
        self.instances: list[Instance] = []
        self.ready_ms: float | None = None
        self.start_ms: float | None = None  # when its start began, from the run's start
        self.build_seconds = 0.0  # time `prepare` spent building: the readiness deadline starts after it
        self.runtimes_used: set[str] = set()  # ${node}, ${go}, ... its commands name
        self.source: str = ""  # where the binary came from, for display
        self.public: PortLease | None = None  # the fault proxy's port in front of this service

    # -- ports and attributes ---------------------------------------------
    def wants_ports(self) -> int:
        """How many ports to allocate before start."""
        return 1

    def fixed_port(self) -> int | None:
        port = getattr(self.spec, "port", None)
        return port if isinstance(port, int) and not isinstance(port, bool) else None

    @property
    def ports(self) -> list[int]:
        return [lease.port for lease in self.leases]

    @property
    def port(self) -> int | None:
        return self.ports[0] if self.leases else None

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def url_for(self, port: int | None) -> str:
        return f"http://{self.host}:{port}" if port else ""

    @property
    def url(self) -> str:
        return self.url_for(self.port)

    @property
    def public_port(self) -> int | None:
        """The port others connect to: the fault proxy's when the service is behind it."""
        return self.public.port if self.public else self.port

    def attributes(self, port: int | None = None) -> dict[str, str]:
        """Attributes for `${...}`: what *others* see (through the fault proxy, if any) unless
        `port` names one of the service's own ports (its own command and env)."""
        port = port if port is not None else self.public_port
        return {
            "name": self.name,
            "host": self.host,
            "port": str(port) if port else "",
            "url": self.url_for(port),
            "direct_url": self.url_for(self.port),
        }

    # -- interpolation ------------------------------------------------------
    def resolve(self, value: str, key: str, port: int | None = None) -> str:
        from ._runtimes import RUNTIMES

        def lookup(ref: Reference) -> str:
            if ref.service is None and ref.attr in RUNTIMES:
                self.runtimes_used.add(ref.attr)
                return str(self.ctx.runtime(ref.attr, self.name).exe)
            target = self if ref.service in (None, self.name) else self.ctx.services.get(ref.service or "")
            attr = ref.attr
            if target is None and f"{ref.service}.{ref.attr}" in self.attributes(port or self.port):
                target, attr = self, f"{ref.service}.{ref.attr}"  # `${url.inventory}`: a dotted attribute
            if target is None:
                raise ConfigError(f"unresolved {ref.text}", file=self.ctx.stack_file,
                                  key=f"services.{self.name}.{key}")
            attrs = target.attributes((port or self.port) if target is self else None)
            if attr not in attrs:
                raise ConfigError(f"unresolved {ref.text}", file=self.ctx.stack_file,
                                  key=f"services.{self.name}.{key}")
            return attrs[attr]

        return interpolate(value, lookup)

    def default_exports(self) -> dict[str, str]:
        """Variables the kind publishes without being asked (values may use ``${...}``); the stack
        file's `export` adds to them and wins where both name a variable."""
        return {}

    def exports(self) -> dict[str, str]:
        """What the service publishes to others: through the fault proxy when it is behind it."""
        merged = {**self.default_exports(), **self.spec.export}
        return {k: self.resolve(v, f"export.{k}", self.public_port) for k, v in merged.items()}

    def dependency_env(self) -> dict[str, str]:
        """Exports of every service this one depends on, transitively."""
        env: dict[str, str] = {}
        seen: set[str] = set()

        def walk(name: str) -> None:
            for dep in self.ctx.services[name].spec.depends_on:
                if dep not in seen:
                    seen.add(dep)
                    walk(dep)
                    env.update(self.ctx.services[dep].exports())

        walk(self.name)
        return env

    def base_env(self, port: int | None = None) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.dependency_env())
        env.update({k: self.resolve(str(v), f"env.{k}", port) for k, v in self.spec.env.items()})
        env[MARKER_ENV] = self.ctx.run_id
        return env

    def find_binary(self) -> Binary:
        """The kind's executable from the providers, honouring the spec's `version` and `path`."""
        assert self.binary_spec is not None, f"{type(self).__name__} declares no binary_spec"
        from ._providers import strict_versions

        self.binary = find_binary(self.binary_spec, service=self.name, version=getattr(self.spec, "version", None),
                                  path=getattr(self.spec, "path", None), root=self.ctx.stack_root,
                                  prefer=getattr(self.spec, "prefer_version", None), strict=strict_versions())
        if self.binary.note:
            self.ctx.warn(self.binary.note)
        self.source = f"{self.binary.source} {self.binary.version}"
        return self.binary

    def tool_env(self, env: Mapping[str, str]) -> dict[str, str]:
        """`env` with the folder of the kind's binary first on PATH, so commands the kind runs
        (`init`, `seed`) find its client tools (psql, redis-cli) from the same provider."""
        out = dict(env)
        if self.binary is not None:
            out["PATH"] = os.pathsep.join([str(self.binary.bindir), out.get("PATH", os.defpath)])
        return out

    def runtime_env(self, env: Mapping[str, str]) -> dict[str, str]:
        """`env` with the folders of the runtimes the service's commands name first on PATH (npm
        from a wheel runs `node` by name; `go` finds its own tools)."""
        from ._runtimes import NEEDS

        out = dict(env)
        names = sorted({*self.runtimes_used, *(n for used in self.runtimes_used for n in NEEDS.get(used, ()))})
        dirs = [str(self.ctx.runtime(name, self.name).bindir) for name in names]
        if dirs:
            out["PATH"] = os.pathsep.join([*dict.fromkeys(dirs), out.get("PATH", os.defpath)])
        return out

    @property
    def user(self) -> ProcessUser | None:
        """The account this service's processes run as: unprivileged when its server refuses root."""
        spec = self.binary_spec
        return self.ctx.user if spec is not None and spec.refuses_root else None

    # -- lifecycle ----------------------------------------------------------
    def prepare(self, deadline: float) -> None:
        """Slow, cacheable work before launch (binaries, data directories)."""

    def launch(self) -> None:
        raise NotImplementedError

    def probe(self) -> Probe | None:
        """The readiness probe: the stack file's `ready`, else the kind's default."""
        ready = self.spec.ready
        if ready is None:
            return self.default_probe()
        if ready.http is not None:
            return HttpProbe(ready.http, ready.status)
        if ready.log is not None:
            return LogProbe(ready.log)
        if ready.command is not None:
            return CommandProbe(ready.command)
        if ready.websocket is not None:
            from ..supervisor import WebSocketProbe

            return WebSocketProbe(ready.websocket)
        return TcpProbe()

    def default_probe(self) -> Probe | None:
        return TcpProbe()

    def ready_on_exit(self) -> bool:
        """A one-off job: its process exiting 0 is being ready (and is no failure afterwards)."""
        return False

    def after_ready(self, deadline: float) -> None:
        """Work that needs the running server."""

    def background(self) -> None:
        """Work for later runs, done in a background thread once the stack is up (joined at down).
        A failure is reported as a warning of the run (`RunContext.warn`), never swallowed."""

    def settle(self) -> None:
        """At the end of the run, after the service stopped: finish (or undo) what it started in the
        background, so nothing of the run outlives it.  Errors become warnings of the run."""

    def log_path(self, index: int = 0) -> Path:
        suffix = f".{index}" if index else ""
        return self.ctx.logs_dir / f"{self.name}{suffix}.log"

    def spawn(self, argv: list[str], env: Mapping[str, str], cwd: Path, port: int | None,
              index: int = 0, user: ProcessUser | None = None) -> Instance:
        user = user if user is not None else self.user
        log = self.log_path(index)
        try:
            offset = log.stat().st_size
        except OSError:
            offset = 0
        proc = ManagedProcess(f"{self.name}[{index}]" if index else self.name, argv, env=env, cwd=cwd,
                              log_path=log, user=user)
        with self.ctx.lock:  # Popen + registration must not interleave with teardown
            proc.start()
            self.ctx.register(proc)
        inst = Instance(proc, port, ProbeTarget(self.host, port, proc.log_path, env, cwd, offset))
        self.instances.append(inst)
        return inst

    def stop_signal(self, final: bool) -> int:
        """The signal that stops the service: `final` when the run ends and its data is discarded
        (a kind may then stop it the quickest way), else when a test stops it to start it again."""
        return signal.SIGTERM

    def stop(self, final: bool = False) -> None:
        sig = self.stop_signal(final)
        for inst in reversed(self.instances):
            inst.process.stop(self.spec.stop_timeout, sig=sig)
            self.ctx.unregister(inst.process)

    def release_ports(self) -> None:
        for lease in self.leases:
            lease.release()

    @property
    def pids(self) -> list[int]:
        return [i.process.pid for i in self.instances if i.process.pid is not None]

    def describe_source(self) -> str:
        return self.source

    def describe_version(self) -> str:
        return str(self.binary.version) if self.binary is not None else ""


ServiceFactory = Callable[[ServiceSpec, RunContext], Service]
