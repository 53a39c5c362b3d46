"""A compose service that is the team's own code (``build: .``, a language image with `command`,
or ``x-stackrig.command``) as a local process.

With ``x-stackrig: {command: ..., cwd: ...}`` that is what runs.  Otherwise the Dockerfile's final
stage (or ``build.target``) gives WORKDIR, ENV and CMD/ENTRYPOINT (compose's `command`,
`entrypoint`, `working_dir` and `environment` win, as in the container); container paths are
mapped to local ones through the Dockerfile's COPY lines and the bind mounts, so the app runs
from the build context.  The command's interpreter must exist here: ``python`` is the
interpreter running stackrig (``${python}``, the tests' virtualenv), ``uvicorn``/``gunicorn``/...
run as ``${python} -m ...`` when installed, ``node``/``npm``/``go`` are the runtimes stackrig
finds; anything else must be on PATH.  RUN steps are not executed.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ._address import escape, own_port_args, own_port_text
from ._dockerfile import Dockerfile, Stage, language_of, parse_dockerfile
from ._health import probe_for, start_timeout_for
from ._hook import Key, Note, Unsupported
from ._model import ServiceDef

__all__ = ["AppPlan", "plan_app", "JOB_MARKER"]

PY_MODULES = {"uvicorn": "uvicorn", "gunicorn": "gunicorn", "flask": "flask", "celery": "celery",
              "alembic": "alembic", "pytest": "pytest", "hypercorn": "hypercorn", "daphne": "daphne",
              "django-admin": "django", "streamlit": "streamlit", "granian": "granian", "dramatiq": "dramatiq",
              "rq": "rq", "fastapi": "fastapi", "locust": "locust", "waitress-serve": "waitress"}
_PYTHON = re.compile(r"^python(?:\d+(?:\.\d+)?)?$")
_INIT_WRAPPERS = ("tini", "dumb-init", "catatonit")
_SHELLS = ("sh", "bash", "ash", "dash", "zsh")
_BUILD_HINTS = (("go build", "${go} build"), ("mvn ", "mvn -q package"), ("gradle", "./gradlew build"),
                ("cargo build", "cargo build --release"), ("npm run build", "${npm} run build"),
                ("npm ci", "${npm} ci"), ("yarn build", "yarn build"), ("dotnet publish", "dotnet publish"))
JOB_MARKER = "stackrig: job {name} completed successfully"
_JOB_SCRIPT = '"$@" || exit $?; echo "{marker}"; exec sleep 2147483647'


@dataclass
class AppPlan:
    table: dict[str, Any]
    env: dict[str, str]  # escaped compose/Dockerfile values, rewritten later
    env_keys: dict[str, Key]
    own_ports: list[int]
    port_var: str | None
    notes: list[Note] = field(default_factory=list)
    origins: dict[str, Key] = field(default_factory=dict)  # stackrig key -> compose key it came from
    x_env: dict[str, str] = field(default_factory=dict)


def _first_word(text: str) -> tuple[int, int] | None:
    """The span of a shell command line's program (after `exec` and VAR=value prefixes)."""
    m = re.match(r"^(\s*(?:exec\s+)?(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*)(\S+)", text)
    return (m.start(2), m.end(2)) if m else None


class _Localiser:
    """Maps container paths and programs onto this machine, for one service."""

    def __init__(self, sd: ServiceDef, df: Dockerfile | None, stage: Stage | None, where: Key) -> None:
        self.sd = sd
        self.df = df
        self.stage = stage
        self.where = where
        self.notes: list[Note] = []

    def local(self, container_path: str) -> tuple[Path | None, bool]:
        found = self.sd.svc.local(container_path)
        if found is not None:
            return found, False
        if self.df is not None and self.stage is not None:
            return self.df.local_path(self.stage, container_path)
        return None, False

    def cwd(self, workdir: str | None) -> Path:
        context = self.sd.build.context if self.sd.build else self.sd.svc.root
        if not workdir:
            return context
        local, _ = self.local(workdir)
        return local if local is not None else context

    def program(self, word: str, cwd: Path) -> list[str]:
        """What runs `word` here (raises Unsupported when nothing does)."""
        name = PurePosixPath(word).name
        if word.startswith("/") or word.startswith("./") or "/" in word:
            local, built = self.local(word) if word.startswith("/") else ((cwd / word), False)
            if local is not None and local.exists():
                return [os.path.relpath(local, cwd) if local.is_relative_to(cwd) else str(local)]
            if built or word.startswith("./") or not _is_bin_dir(word):
                raise Unsupported(self.where, f"the command runs {word}, which the image build makes (or copies "
                                              "from another stage); stackrig does not build images",
                                  hint=self._build_hint(word))
        if _PYTHON.match(name):
            return ["${python}"]
        if name in PY_MODULES:
            module = PY_MODULES[name]
            if importlib.util.find_spec(module) is None:
                raise Unsupported(self.where, f"the command runs {name}, which is not installed in this Python "
                                              f"({sys.executable}); RUN steps such as pip install are not executed",
                                  hint=f"install the app's requirements here (pip install {module} ...), or set "
                                       "`x-stackrig: {command: ...}`")
            return ["${python}", "-m", module]
        if name in ("node", "nodejs", "npm", "go"):
            self._runtime("node" if name == "nodejs" else name)
            return ["${" + ("node" if name == "nodejs" else name) + "}"]
        if name in _INIT_WRAPPERS or name in ("gosu", "su-exec"):
            return []
        if name in _SHELLS:
            return [name]
        found = shutil.which(name) or _venv_script(name)
        if found is None:
            raise Unsupported(self.where, f"the command runs `{name}`, which is not installed here (RUN steps are "
                                          "not executed)",
                              hint=f"install {name} on this machine, or set `x-stackrig: {{command: ...}}`")
        return [name if shutil.which(name) else found]

    def _runtime(self, name: str) -> None:
        from ..services import RUNTIMES, candidates

        if name in RUNTIMES and not candidates(RUNTIMES[name]):
            raise Unsupported(self.where, f"the command runs {name}, which is not installed here",
                              hint=f"{RUNTIMES[name].install_hint()}; `stackrig doctor` shows what it finds")

    def _build_hint(self, word: str) -> str:
        runs = self.stage.all_runs() if self.stage else []
        if self.df is not None:
            for st in self.df.stages:
                runs.extend(st.runs)
        for _, text in runs:
            for needle, local in _BUILD_HINTS:
                if needle in text:
                    return (f"build it locally and run it: `x-stackrig: {{build: \"{local} ...\", command: ...}}` "
                            f"(the Dockerfile's step: RUN {text.strip()[:80]})")
        return "set `x-stackrig: {command: ...}` to what runs the app on this machine"

    def argv(self, argv: list[str], cwd: Path) -> list[str]:
        """`argv` with its program (and init/su wrappers) made local."""
        args = list(argv)
        while args:
            head = PurePosixPath(args[0]).name
            if head in _INIT_WRAPPERS:
                args = args[1:]
                while args and args[0].startswith("-"):
                    args = args[1:]  # tini -- / dumb-init --rewrite ...
                continue
            if head in ("gosu", "su-exec") and len(args) > 1:
                args = args[2:]
                continue
            break
        if not args:
            raise Unsupported(self.where, "the command is empty", hint="set `command:` or `x-stackrig.command`")
        if PurePosixPath(args[0]).name in _SHELLS and len(args) >= 3 and args[1] == "-c":
            span = _first_word(args[2])
            if span is not None:
                word = args[2][span[0]:span[1]]
                replacement = " ".join(self.program(word, cwd)) or word
                args[2] = args[2][:span[0]] + replacement + args[2][span[1]:]
            return args
        return [*self.program(args[0], cwd), *args[1:]]


def _is_bin_dir(word: str) -> bool:
    return str(PurePosixPath(word).parent) in ("/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin")


def _venv_script(name: str) -> str | None:
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.is_file() and os.access(candidate, os.X_OK) else None


def _command(sd: ServiceDef, stage: Stage | None) -> tuple[list[str] | None, Key]:
    """The container's argv: ENTRYPOINT + CMD, with compose's `entrypoint`/`command` over them."""
    svc = sd.svc
    entry = list(svc.entrypoint) if svc.entrypoint is not None else None
    cmd = list(svc.command) if svc.command is not None else None
    where: Key = ("command",) if svc.command is not None else ("entrypoint",) if entry is not None else ("build",)
    if entry is None and stage is not None and stage.entrypoint is not None:
        entry = list(stage.entrypoint.as_argv())
        if stage.entrypoint.shell is not None:
            cmd = []  # a shell-form ENTRYPOINT ignores CMD
    if cmd is None and svc.entrypoint is None and stage is not None and stage.cmd is not None:
        cmd = list(stage.cmd.as_argv())
    argv = [*(entry or []), *(cmd or [])]
    return (argv or None), where


def _dockerfile(sd: ServiceDef, where: Key) -> tuple[Dockerfile, Stage]:
    build = sd.build
    assert build is not None
    if build.remote:
        raise Unsupported((*where, "build"), "a remote build context (a git or https URL) cannot run natively",
                          hint="clone it and point `build:` at the folder, or set `x-stackrig: {command: ...}`")
    if build.dockerfile is not None and not build.dockerfile.is_file():
        raise Unsupported((*where, "build"), f"the Dockerfile {build.dockerfile} does not exist",
                          hint="fix `build.dockerfile` (relative to the context), or set `x-stackrig: {command: ...}`")
    df = parse_dockerfile(build.dockerfile, build.context, build.args, build.inline)
    stage = df.stage(build.target)
    if stage is None:
        names = ", ".join(s.name for s in df.stages if s.name) or "none"
        raise Unsupported((*where, "build", "target"), f"the Dockerfile has no stage {build.target!r} "
                                                       f"(named stages: {names})", hint="fix `build.target`")
    return df, stage


def _check_args(sd: ServiceDef, df: Dockerfile, notes: list[Note]) -> None:
    assert sd.build is not None
    for name in sd.build.args:
        uses = df.arg_uses.get(name, set())
        if name not in df.declared_args:
            notes.append(Note(("build", "args", name), f"build arg {name}: not declared by the Dockerfile (Docker "
                              "ignores it too)", "dropped"))
        elif uses and uses <= {"RUN"} and "build" not in sd.x and "command" not in sd.x:
            raise Unsupported(("build", "args", name),
                              f"build arg {name} is used only by RUN steps, which stackrig does not execute: the "
                              "local run cannot honour it",
                              hint="do locally what that RUN step does, and say so with `x-stackrig: {build: \"...\"}` "
                                   "(run once, cached), or `x-stackrig: {command: ...}`; or drop the arg")
        else:
            notes.append(Note(("build", "args", name), f"build arg {name}: substituted where the Dockerfile uses it"))


def plan_app(sd: ServiceDef, *, job: bool, referenced_ports: set[int], native_job: bool = False) -> AppPlan:
    """The process table for an app service (env and command still to be rewritten by the caller);
    `native_job`: the command kind has a `job` key."""
    where: Key = ()
    x = sd.x
    notes: list[Note] = []
    origins: dict[str, Key] = {}
    df: Dockerfile | None = None
    stage: Stage | None = None
    env: dict[str, str] = {}
    env_keys: dict[str, Key] = {}
    if "command" not in x and sd.build is not None:
        df, stage = _dockerfile(sd, where)
        _check_args(sd, df, notes)
        for key, value in stage.env.items():
            if key == "PATH":
                notes.append(Note(("build",), "ENV PATH from the Dockerfile: dropped — the app runs with this "
                                  "machine's PATH", "dropped"))
                continue
            env[key] = value
            env_keys[key] = ("build",)
        lang, version = language_of(stage.root_base())
        if lang == "python" and version and version.count(".") >= 1:
            here = f"{sys.version_info.major}.{sys.version_info.minor}"
            if not version.startswith(here):
                notes.append(Note(("build",), f"FROM {stage.root_base()}: the app runs with this Python "
                                  f"({sys.version.split()[0]}), not {version}", "warning"))
    loc = _Localiser(sd, df, stage, ("command",))
    # paths in the Dockerfile's ENV (PYTHONPATH=/app/src) point at the local folders
    for key, value in list(env.items()):
        if value.startswith("/"):
            local, _ = loc.local(value)
            if local is not None:
                env[key] = str(local)
    env.update(sd.svc.environment)
    env_keys.update(sd.env_keys)
    env = {k: escape(v) for k, v in env.items()}
    # the working folder
    if "cwd" in x:
        cwd = (sd.svc.root / str(x["cwd"])).resolve()
        origins["cwd"] = ("x-stackrig", "cwd")
    else:
        cwd = loc.cwd(sd.working_dir or (stage.workdir if stage else None))
        origins["cwd"] = ("working_dir",) if sd.working_dir else ("build",)
    # ports: published and exposed container ports, the Dockerfile's EXPOSE, what others reference
    own: list[int] = []
    for p in [*(p.container for p in sd.svc.ports if p.protocol == "tcp"), *(stage.expose if stage else []),
              *sorted(referenced_ports)]:
        if p not in own:
            own.append(p)
    port_var = x.get("port") if isinstance(x.get("port"), str) else None
    if not own and port_var is None and "PORT" in env and env["PORT"].isdigit():
        own.append(int(env["PORT"]))
    health = sd.healthcheck if sd.healthcheck is not None else (stage.healthcheck if stage else None)
    if not own and health is not None and not health.disabled:  # `curl -f localhost:8000/health` names it
        found = re.search(r"(?:localhost|127\.0\.0\.1|0\.0\.0\.0):(\d{2,5})\b", health.text)
        if found:
            own.append(int(found.group(1)))
    table: dict[str, Any] = {}
    # the command
    if "command" in x:
        command: str | list[str] = x["command"] if isinstance(x["command"], str) else [str(a) for a in x["command"]]
        origins["command"] = ("x-stackrig", "command")
    else:
        argv, cmd_where = _command(sd, stage)
        loc.where = cmd_where
        if argv is None:
            raise Unsupported(cmd_where, "no command: the image's default command does not run locally" if sd.build
                              is None else "the Dockerfile has no CMD or ENTRYPOINT, and compose sets no `command`",
                              hint="set `command:`, or `x-stackrig: {command: ...}` (stackrig syntax: "
                                   "\"${python} -m myapp --port ${self.port}\")")
        argv = [escape(a) for a in argv]
        argv = loc.argv(argv, cwd)
        if own:
            if len(argv) >= 3 and PurePosixPath(argv[0]).name in _SHELLS and argv[1] == "-c":
                argv[2], _ = own_port_text(argv[2], own[0])
            else:
                argv, _ = own_port_args(argv, own[0])
        command = _as_command(argv)
        origins["command"] = cmd_where
    if job or x.get("job") is True:
        if native_job:  # the process kind runs jobs itself (`job = true`: ready once it exited 0)
            table["command"] = command
            table["job"] = True
        else:  # until it does: a wrapper that says so in the log once the command exited 0, then waits
            argv_job = command if isinstance(command, list) else ["/bin/sh", "-c", command]
            marker = JOB_MARKER.format(name=sd.name)
            table["command"] = ["/bin/sh", "-c", _JOB_SCRIPT.format(marker=marker), f"stackrig-job-{sd.name}",
                                *argv_job]
            table["ready"] = {"log": f"^{marker}$"}  # service names hold no regex characters
        table["port"] = False
        table["start_timeout"] = float(x.get("start_timeout", 300))
        notes.append(Note(("depends_on",), "a one-off job: ready once it exited 0 (its dependents wait for that); "
                          "a non-zero exit fails the run with its log"))
        own = []
    else:
        table["command"] = command
    rel = os.path.relpath(cwd, sd.svc.root) if cwd.is_relative_to(sd.svc.root) else str(cwd)
    if rel != ".":
        table["cwd"] = rel.replace(os.sep, "/")
    if "port" not in table:
        if x.get("port") is False or (not own and port_var is None):
            table["port"] = False
    if "build" in x:
        table["build"] = x["build"]
        origins["build"] = ("x-stackrig", "build")
        if "build_inputs" in x:
            table["build_inputs"] = list(x["build_inputs"])
    if sd.replicas > 1 and not job:
        table["replicas"] = sd.replicas
        origins["replicas"] = ("scale",)
    if "ready" in x:
        table["ready"] = dict(x["ready"])
        origins["ready"] = ("x-stackrig", "ready")
    elif health is not None and "ready" not in table:
        ready, said = probe_for(health, own[0] if own else None, sd.aliases)
        if ready is not None:
            table["ready"] = ready
            origins["ready"] = ("healthcheck",)
        notes.append(Note(("healthcheck",), said))
        timeout = start_timeout_for(health)
        if timeout is not None:
            table["start_timeout"] = timeout
    if "start_timeout" in x and not job:
        table["start_timeout"] = float(x["start_timeout"])
    if len(own) > 1:
        notes.append(Note(("ports",), f"container ports {', '.join(map(str, own[1:]))}: only the first ({own[0]}) "
                          "gets an allocated port (${self.port})", "warning"))
    x_env = {str(k): str(v) for k, v in (x.get("env") or {}).items()}
    return AppPlan(table=table, env=env, env_keys=env_keys, own_ports=own[:1], port_var=port_var,
                   notes=[*notes, *loc.notes], origins=origins, x_env=x_env)


def _as_command(argv: list[str]) -> str | list[str]:
    """A plain argv stays an array; ``sh -c TEXT`` of one simple command becomes the string TEXT."""
    if len(argv) == 3 and argv[0] in ("/bin/sh", "sh") and argv[1] == "-c" \
            and not re.search(r"&&|\|\||[;|&<>\n`]|\$\(", argv[2]):
        return argv[2]
    return argv

