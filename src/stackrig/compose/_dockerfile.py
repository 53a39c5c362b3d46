"""Read a Dockerfile for what a local run needs: WORKDIR, ENV, EXPOSE, CMD, ENTRYPOINT, COPY.

Nothing is built and ``RUN`` steps are not executed: the app runs with the local interpreter and
the packages the project already installed.  What the file says still matters: the final stage
(or ``build.target``) gives the working directory, the environment and the command; its
``COPY`` lines say which container path holds which folder of the build context, so ``WORKDIR
/app`` with ``COPY . .`` runs the app from the context itself; ``ARG``s (defaults and
``build.args``) are substituted where Docker substitutes them.  Multi-stage files, line
continuations, heredocs, ``# escape=`` and the exec and shell forms are understood.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ._model import HealthDef, parse_healthcheck

__all__ = ["Dockerfile", "Form", "Stage", "parse_dockerfile"]

_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")
_HEREDOC = re.compile(r"<<-?\s*[\"']?([A-Za-z_][A-Za-z0-9_]*)[\"']?")


@dataclass(frozen=True)
class Form:
    """CMD/ENTRYPOINT: the exec form's argv, or the shell form's text."""

    argv: tuple[str, ...] | None = None
    shell: str | None = None
    line: int = 0

    def as_argv(self) -> tuple[str, ...]:
        return self.argv if self.argv is not None else ("/bin/sh", "-c", self.shell or "")


@dataclass
class Stage:
    index: int
    name: str | None
    base: str
    line: int
    parent: Stage | None = None
    env: dict[str, str] = field(default_factory=dict)
    env_lines: dict[str, int] = field(default_factory=dict)
    workdir: str = "/"
    cmd: Form | None = None
    entrypoint: Form | None = None
    expose: list[int] = field(default_factory=list)
    copies: list[tuple[str, Path | None]] = field(default_factory=list)  # container path -> local (None: built)
    runs: list[tuple[int, str]] = field(default_factory=list)
    args: dict[str, str | None] = field(default_factory=dict)
    healthcheck: HealthDef | None = None

    def root_base(self) -> str:
        """The image the stage chain starts from (``FROM builder`` follows `builder`)."""
        return self.parent.root_base() if self.parent else self.base

    def all_copies(self) -> list[tuple[str, Path | None]]:
        return [*(self.parent.all_copies() if self.parent else []), *self.copies]

    def all_runs(self) -> list[tuple[int, str]]:
        return [*(self.parent.all_runs() if self.parent else []), *self.runs]


@dataclass
class Dockerfile:
    path: Path
    context: Path
    stages: list[Stage]
    arg_uses: dict[str, set[str]]  # ARG name -> instructions that use it (RUN, ENV, CMD, ...)
    declared_args: set[str]

    def stage(self, target: str | None) -> Stage | None:
        if target is None:
            return self.stages[-1] if self.stages else None
        return next((s for s in self.stages if s.name == target), None)

    def local_path(self, stage: Stage, container_path: str) -> tuple[Path | None, bool]:
        """(the local path behind `container_path`, whether the image build made it instead)."""
        want = PurePosixPath(container_path)
        best: tuple[int, Path | None] | None = None
        for target, local in stage.all_copies():
            t = PurePosixPath(target)
            if want == t or t in want.parents:
                depth = len(t.parts)
                if best is None or depth >= best[0]:
                    best = (depth, local.joinpath(*want.parts[len(t.parts):]) if local is not None else None)
        if best is None:
            return None, False
        return best[1], best[1] is None


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Instructions with continuations joined and comments removed, with their first line."""
    escape = "\\"
    lines = text.splitlines()
    for raw in lines[:5]:
        m = re.match(r"^\s*#\s*escape\s*=\s*(\S)", raw)
        if m:
            escape = m.group(1)
            break
        if raw.strip() and not raw.strip().startswith("#"):
            break
    out: list[tuple[int, str]] = []
    i = 0
    while i < len(lines):
        start = i + 1
        line = lines[i]
        i += 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = []
        while line.rstrip().endswith(escape):
            parts.append(line.rstrip()[:-1])
            line = ""
            while i < len(lines):
                nxt = lines[i]
                i += 1
                if nxt.lstrip().startswith("#"):
                    continue
                line = nxt
                break
        parts.append(line)
        joined = " ".join(p.strip() for p in parts if p.strip())
        heredoc = _HEREDOC.search(joined)
        if heredoc and joined.split(None, 1)[0].upper() in ("RUN", "COPY", "ADD"):
            marker = heredoc.group(1)
            body = []
            while i < len(lines) and lines[i].strip() != marker:
                body.append(lines[i])
                i += 1
            i += 1
            joined += "\n" + "\n".join(body)
        out.append((start, joined))
    return out


def _substitute(text: str, values: Mapping[str, str | None]) -> str:
    def sub(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(4)
        value = values.get(name)
        op, word = m.group(2), m.group(3) or ""
        if op in (":-", "-"):
            return value if value else word
        if op in (":+", "+"):
            return word if value else ""
        return value or ""

    return _VAR.sub(sub, text)


def _uses(text: str) -> set[str]:
    return {m.group(1) or m.group(4) for m in _VAR.finditer(text)}


def _form(rest: str, line: int) -> Form:
    stripped = rest.strip()
    if stripped.startswith("["):
        try:
            value = json.loads(stripped)
        except ValueError:
            value = None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return Form(argv=tuple(value), line=line)
    return Form(shell=stripped, line=line)


def _env_pairs(rest: str) -> list[tuple[str, str]]:
    try:
        words = shlex.split(rest, posix=True)
    except ValueError:
        words = rest.split()
    if words and "=" not in words[0]:
        key, _, value = rest.strip().partition(" ")
        return [(key, value.strip())]  # legacy `ENV KEY value with spaces`
    return [(w.partition("=")[0], w.partition("=")[2]) for w in words if "=" in w]


def _copy(stage: Stage, rest: str, context: Path, values: Mapping[str, str | None]) -> None:
    words = rest.split()
    flags = [w for w in words if w.startswith("--")]
    args = [w for w in words if not w.startswith("--")]
    stripped = rest.strip()
    if stripped.startswith("[") or (flags and " ".join(args).startswith("[")):
        try:
            args = json.loads(" ".join(args))
        except ValueError:
            return
    if len(args) < 2:
        return
    from_stage = any(f.startswith("--from=") for f in flags)
    *sources, dest = [_substitute(a, values) for a in args]
    dest_path = PurePosixPath(dest if dest.startswith("/") else f"{stage.workdir.rstrip('/')}/{dest}")
    dest_text = str(dest_path)
    as_dir = dest.endswith("/") or dest in (".", "./") or len(sources) > 1
    for src in sources:
        if from_stage or re.match(r"^[a-z]+://", src):
            stage.copies.append((dest_text, None))
            continue
        local = (context / src).resolve()
        if any(c in src for c in "*?["):
            stage.copies.append((dest_text, local.parent))
        elif local.is_dir() or src in (".", "./"):
            stage.copies.append((dest_text, local))
        elif as_dir:
            stage.copies.append((str(dest_path / local.name), local))
        else:
            stage.copies.append((dest_text, local))


def parse_dockerfile(path: Path | None, context: Path, args: Mapping[str, str | None],
                     inline: str | None = None) -> Dockerfile:
    """Read the Dockerfile at `path` (or `inline`), with `args` (compose's build.args) over ARG defaults."""
    text = inline if inline is not None else (path.read_text(encoding="utf-8", errors="replace") if path else "")
    stages: list[Stage] = []
    global_args: dict[str, str | None] = {}
    uses: dict[str, set[str]] = {}
    declared: set[str] = set()
    current: Stage | None = None
    for line, instruction in _logical_lines(text):
        word, _, rest = instruction.partition(" ")
        op = word.upper()
        rest = rest.strip()
        if op != "RUN" or "\n" not in rest:
            for name in _uses(rest):
                uses.setdefault(name, set()).add(op)
        else:
            for name in _uses(rest):
                uses.setdefault(name, set()).add("RUN")
        if op == "ARG":
            for item in rest.split():
                name, sep, default = item.partition("=")
                declared.add(name)
                value = args[name] if name in args else (default.strip("\"'") if sep else None)
                if current is None:
                    global_args[name] = value
                else:
                    value = args[name] if name in args else (
                        _substitute(default.strip("\"'"), {**global_args, **current.args, **current.env})
                        if sep else global_args.get(name))
                    current.args[name] = value
            continue
        if op == "FROM":
            words = rest.split()
            words = [w for w in words if not w.startswith("--platform")]
            base = _substitute(words[0], global_args) if words else "scratch"
            stage_name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            parent = next((s for s in stages if s.name and s.name.lower() == base.lower()), None)
            current = Stage(index=len(stages), name=stage_name, base=base, line=line, parent=parent)
            if parent is not None:
                current.env = dict(parent.env)
                current.env_lines = dict(parent.env_lines)
                current.workdir = parent.workdir
                current.cmd, current.entrypoint = parent.cmd, parent.entrypoint
                current.expose = list(parent.expose)
                current.healthcheck = parent.healthcheck
            stages.append(current)
            continue
        if current is None:
            continue
        values = {**global_args, **current.args, **current.env}
        if op == "ENV":
            for key, value in _env_pairs(rest):
                current.env[key] = _substitute(value, {**values, **current.env})
                current.env_lines[key] = line
        elif op == "WORKDIR":
            wd = _substitute(rest.strip("\"'"), values)
            current.workdir = wd if wd.startswith("/") else f"{current.workdir.rstrip('/')}/{wd}"
        elif op in ("CMD", "ENTRYPOINT"):
            form = _form(rest, line)
            if op == "CMD":
                current.cmd = form
            else:
                current.entrypoint = form
                current.cmd = None  # ENTRYPOINT resets an inherited CMD
        elif op == "EXPOSE":
            for item in _substitute(rest, values).split():
                port = item.split("/")[0]
                if port.isdigit():
                    current.expose.append(int(port))
        elif op in ("COPY", "ADD"):
            _copy(current, rest, context, values)
        elif op == "RUN":
            current.runs.append((line, rest))
        elif op == "HEALTHCHECK":
            current.healthcheck = _healthcheck(rest)
    return Dockerfile(path=path or context / "Dockerfile", context=context, stages=stages, arg_uses=uses,
                      declared_args=declared)


def _healthcheck(rest: str) -> HealthDef | None:
    words = rest.split()
    if words and words[0].upper() == "NONE":
        return HealthDef(disabled=True)
    options: dict[str, str] = {}
    while words and words[0].startswith("--"):
        key, _, value = words.pop(0)[2:].partition("=")
        options[key.replace("-", "_")] = value
    if not words or words[0].upper() != "CMD":
        return None
    form = _form(" ".join(words[1:]), 0)
    test: list[str] = ["CMD", *form.argv] if form.argv is not None else ["CMD-SHELL", form.shell or ""]
    parsed = parse_healthcheck({"test": test, **{k: v for k, v in options.items()
                                                 if k in ("timeout", "start_period", "interval", "retries")}})
    return parsed if isinstance(parsed, HealthDef) else None


def language_of(image: str) -> tuple[str | None, str | None]:
    """(the runtime an image provides — python, node, go, java, ... — and its version tag)."""
    from ._hook import ImageRef

    ref = ImageRef.parse(image)
    repo = ref.repository.rsplit("/", 1)[-1]
    table = {"python": "python", "pypy": "python", "node": "node", "golang": "go", "eclipse-temurin": "java",
             "openjdk": "java", "amazoncorretto": "java", "maven": "java", "gradle": "java", "ruby": "ruby",
             "php": "php", "rust": "rust", "aspnet": "dotnet", "sdk": "dotnet", "runtime": "dotnet", "deno": "deno",
             "bun": "bun", "elixir": "elixir", "erlang": "erlang"}
    if ref.repository.startswith("astral-sh/uv") or ref.repository.endswith("/uv"):
        return "python", None
    return table.get(repo), ref.version
