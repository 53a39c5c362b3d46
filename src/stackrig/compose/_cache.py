"""The mapped stack of a compose file, cached: a warm run reads no YAML.

Mapping a compose file costs ~40 ms here (PyYAML's import alone is half of it), which a run of the
equivalent stackrig.toml does not pay.  The rendered stack is kept under the cache dir with
everything the mapping read: the bytes of the compose file and of every file it used (``.env``,
env files, Dockerfiles, extended files — and the absence of optional ones), the listing of every
mounted folder and build context, the interpolated variables and their values, the registered
kinds, ``sys.path`` and ``PATH`` (which programs and modules exist).  Any difference maps the file
again.  Version preferences are not cached: they are asked of the providers on every load.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._assemble import Assembled

__all__ = ["cache_key", "read_cache", "write_cache"]

_FORMAT = 1


def _file(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _listing(folder: Path) -> str | None:
    """The names in `folder` (not dot-entries: `.stackrig/` appears with the first run; not `__pycache__`)."""
    try:
        names = sorted(f"{e.name}/" if e.is_dir() else e.name for e in os.scandir(folder)
                       if not e.name.startswith(".") and e.name != "__pycache__")
    except OSError:
        return None
    return hashlib.sha256("\0".join(names).encode()).hexdigest()


def _environment_key() -> list[Any]:
    from ._images import _key as kinds_key

    paths = []
    for entry in sys.path:
        try:
            if entry and os.path.isdir(entry):
                paths.append([entry, os.stat(entry).st_mtime_ns])
        except OSError:
            continue
    return [sys.executable, os.environ.get("PATH", ""), paths, kinds_key()]


def _cache_file(path: Path) -> Path:
    from .._paths import cache_dir

    return cache_dir() / "compose" / (hashlib.sha256(str(path).encode()).hexdigest()[:24] + ".json")


def cache_key(path: Path, raw: bytes, asm: Assembled, profiles: Iterable[str]) -> dict[str, Any]:
    doc = asm.doc
    files = {str(p): _file(p) for p in doc.inputs}
    files[str(path.parent / ".env")] = _file(path.parent / ".env")
    folders: set[Path] = set()
    for sd in doc.services.values():
        for v in sd.svc.volumes:
            if v.path is not None and v.path.is_dir():
                folders.add(v.path)
        if sd.build is not None:
            folders.add(sd.build.context)
            if sd.build.dockerfile is not None:
                files[str(sd.build.dockerfile)] = _file(sd.build.dockerfile)
    return {"format": _FORMAT, "compose": hashlib.sha256(raw).hexdigest(), "files": files,
            "folders": {str(f): _listing(f) for f in sorted(folders)},
            "variables": dict(doc.variables), "profiles": sorted(profiles), "environment": _environment_key()}


def _valid(key: dict[str, Any], raw: bytes, profiles: Iterable[str]) -> bool:
    from ._interp import read_env_file

    if key.get("format") != _FORMAT or key.get("compose") != hashlib.sha256(raw).hexdigest():
        return False
    if key.get("profiles") != sorted(profiles):
        return False
    if any(_file(Path(p)) != digest for p, digest in key["files"].items()):
        return False
    if any(_listing(Path(p)) != digest for p, digest in key["folders"].items()):
        return False
    variables: dict[str, Any] = key["variables"]
    if variables:
        dotenv = next((Path(p) for p in key["files"] if p.endswith("/.env")), None)
        env: dict[str, str | None] = {}
        if dotenv is not None and dotenv.is_file():
            env.update(read_env_file(dotenv, os.environ))
        env.update(os.environ)
        if any(env.get(name) != value for name, value in variables.items()):
            return False
    return bool(key.get("environment") == json.loads(json.dumps(_environment_key())))


def read_cache(path: Path, raw: bytes, profiles: Iterable[str]) -> dict[str, Any] | None:
    """The cached entry for `path` when everything it was mapped from is unchanged."""
    if os.environ.get("STACKRIG_COMPOSE_CACHE", "1") in ("0", "off", "no"):
        return None
    try:
        entry: dict[str, Any] = json.loads(_cache_file(path).read_text())
        return entry if _valid(entry["key"], raw, profiles) else None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def write_cache(path: Path, key: dict[str, Any], value: dict[str, Any]) -> None:
    target = _cache_file(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"key": key, **value}))
        tmp.replace(target)
    except OSError:
        pass
