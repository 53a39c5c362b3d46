"""Load a compose file as a validated stack: parse, plan, rewrite, render, validate.

The result is a normal :class:`~stackrig.config.StackFile` (a :class:`ComposeStackFile`, which also
carries the run's warnings and the equivalent TOML), validated by the stack-file loader against the
installed kinds — the rest of stackrig runs it unchanged.  A mistake the stack-file validation finds
(in an ``x-stackrig`` value, say) is located in the compose file.  Its digest covers the compose
file, the files it reads (``.env``, env files, Dockerfiles, extended files), the active profiles and
the variables it interpolates — except those a service's environment passes on by name
(``DATABASE_URL: ${DATABASE_URL:-...}``) and those the stack exports, so a test process started by
``stackrig run`` (which has them set) recognises the same stack.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import StackFile, parse_stack
from ..errors import ConfigError
from ._cache import read_cache, write_cache
from ._versions import prefer, strict_from_env

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._assemble import Assembled

# the mapping's modules (and PyYAML) are imported only when a file is mapped: a warm load reads the cache

__all__ = ["COMPOSE_FILE_NAMES", "ComposeLoad", "ComposeStackFile", "import_compose", "is_compose_file",
           "load_compose", "load_stack"]

# found like stackrig.toml when there is no stackrig file (the test file first)
COMPOSE_FILE_NAMES = ("docker-compose.test.yml", "docker-compose.test.yaml", "compose.test.yaml", "compose.test.yml",
                      "compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")


def is_compose_file(path: str | os.PathLike[str]) -> bool:
    """A YAML file: what `-f` hands the compose loader instead of the TOML one."""
    return str(path).endswith((".yml", ".yaml"))


@dataclass(frozen=True)
class ComposeStackFile(StackFile):
    """A stack read from a compose file."""

    warnings: tuple[str, ...] = ()  # say them when the stack runs (nearest versions, dropped constructs)
    toml: str = ""  # the equivalent stackrig.toml, with comments


@dataclass(frozen=True)
class ComposeLoad:
    stack: ComposeStackFile
    assembled: Assembled


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ConfigError("compose file not found", file=path,
                          hint="pass the path of your docker-compose.test.yml with -f/--file") from None
    except OSError as exc:
        raise ConfigError(f"cannot read the compose file: {exc.strerror}", file=path) from None


def _digest(raw: bytes, asm: Assembled) -> str:
    h = hashlib.sha256(raw)
    files = list(asm.doc.inputs)
    for p in asm.services.values():
        if p.sd.build is not None and p.sd.build.dockerfile is not None:
            files.append(p.sd.build.dockerfile)
    for f in sorted(set(files)):
        h.update(b"\0" + str(f).encode() + b"\0")
        try:
            h.update(f.read_bytes())
        except OSError:
            pass
    # `DATABASE_URL: ${DATABASE_URL:-...}` takes what `stackrig run` exports to the test process: not another stack
    passed = {var for p in asm.services.values() for var in (p.table.get("export") or {})}
    passed |= {var for sd in asm.doc.services.values() for var in sd.svc.environment}
    for name, value in asm.doc.variables.items():
        if name not in passed:
            h.update(f"\0{name}={value}".encode())
    h.update(("\0profiles=" + ",".join(asm.doc.profiles)).encode())
    return h.hexdigest()


def _relocate(asm: Assembled, exc: ConfigError) -> ConfigError:
    """A stack-file error in the rendered TOML, located in the compose file instead."""
    parts = (exc.key or "").split(".")
    if len(parts) >= 2 and parts[0] == "services" and parts[1] in asm.services:
        p = asm.services[parts[1]]
        origin = p.origins.get(parts[2]) if len(parts) > 2 else None
        keys = (*p.sd.keys, *(origin or ()))
        what = f" (stackrig key `{'.'.join(parts[2:])}`)" if len(parts) > 2 else ""
        return ConfigError(f"service '{p.name}': {exc.message}{what}", file=asm.doc.path,
                           line=asm.doc.located.line(keys), key=".".join(str(k) for k in keys), hint=exc.hint)
    return ConfigError(exc.message, file=asm.doc.path, key=exc.key, hint=exc.hint)


def _preferences(asm: Assembled) -> dict[str, list[Any]]:
    """service -> [kind, the tag's version, the image, the image's line]: asked of the providers on each load."""
    found: dict[str, list[Any]] = {}
    for name, p in asm.services.items():
        if p.version is not None:
            found[name] = [p.kind, p.version, p.sd.svc.image.text if p.sd.svc.image else "",
                           asm.doc.located.line((*p.sd.keys, "image"))]
    return found


def _prefers(kind: str) -> bool:
    """Whether the kind takes `prefer_version` and looks its binary up the default way, which honours it (the
    providers then run the nearest version themselves); else the load pins the nearest (:mod:`._versions`)."""
    import msgspec

    from ..services import Service, registry

    found = registry().get(kind)
    return "prefer_version" in {f.name for f in msgspec.structs.fields(found.spec)} \
        and getattr(found.service, "find_binary", None) is Service.find_binary


def _with_versions(text: str, versions: Mapping[str, str | None], preferred: Mapping[str, str] | None = None) -> str:
    """`version = "..."` after the `kind` line of each service the providers pinned (or `prefer_version`)."""
    out: list[str] = []
    current: str | None = None
    for line in text.splitlines():
        out.append(line)
        header = re.match(r'^\[services\.(?:"([^"]+)"|([A-Za-z0-9_-]+))\]$', line)
        if header:
            current = header.group(1) or header.group(2)
        elif current is not None and line.startswith("kind = "):
            version = versions.get(current)
            if version:
                out.append(f"version = {json.dumps(version)}")
            if preferred and current in preferred:
                out.append(f"prefer_version = {json.dumps(preferred[current])}")
            current = None
    return "\n".join(out) + "\n"


def _finish(path: Path, plain: str, prefs: Mapping[str, list[Any]], strict: bool, warnings: Iterable[str],
            digest: str, full: str, relocate: Callable[[ConfigError], ConfigError]) -> ComposeStackFile:
    from ..services import RUNTIMES, registry

    versions: dict[str, str | None] = {}
    preferred: dict[str, str] = {}
    said = list(warnings)
    for name, (kind, wanted, image, line) in prefs.items():
        if _prefers(kind):  # the providers take the tag as a preference themselves, at run time
            preferred[name] = wanted
            continue

        def error(message: str, hint: str, line: int | None = line, name: str = name) -> ConfigError:
            return ConfigError(message, file=path, line=line, key=f"services.{name}.image", hint=hint)

        pref = prefer(registry().get(kind), wanted, service=name, image=image, strict=strict, error=error)
        versions[name] = pref.constraint
        if pref.warning:
            said.insert(0, pref.warning)
    try:
        text = _with_versions(plain, versions, preferred)
        stack = parse_stack(path, text.encode(), registry().specs(), RUNTIMES.keys())
    except ConfigError as exc:
        raise relocate(exc) from None
    return ComposeStackFile(path=stack.path, services=stack.services, settings=stack.settings, digest=digest,
                            warnings=tuple(said), toml=full)


def load_compose(path: Path | str, *, profiles: Iterable[str] = (), strict_versions: bool | None = None,
                 environ: Mapping[str, str] | None = None) -> ComposeLoad:
    """Read, map and validate a compose file; raise :class:`~stackrig.errors.ConfigError` on any mistake.

    `profiles`: active besides ``COMPOSE_PROFILES``; `strict_versions`: refuse a version other than the
    image's tag (default: ``STACKRIG_STRICT_VERSIONS``); `environ`: the variables interpolation sees
    (default: this process's environment, over the project's ``.env``)."""
    from ._assemble import assemble
    from ._cache import cache_key
    from ._parse import parse_compose
    from ._toml import render

    path = Path(path).resolve()
    raw = _read(path)
    profiles = tuple(profiles)
    asm = assemble(parse_compose(path, raw, profiles=profiles, environ=environ))
    strict = strict_from_env() if strict_versions is None else strict_versions
    warnings = [f"{path.name}:{asm.doc.located.line((*p.sd.keys, *n.key)) or '?'}: service '{name}': {n.text}"
                for name, p in asm.services.items() for n in p.notes if n.level == "warning"]
    plain = render(asm, comments=False, versions={})
    full = render(asm, comments=True, versions=None)
    digest = _digest(raw, asm)
    prefs = _preferences(asm)
    stack = _finish(path, plain, prefs, strict, warnings, digest, full, lambda exc: _relocate(asm, exc))
    if environ is None:
        write_cache(path, cache_key(path, raw, asm, profiles),
                    {"plain": plain, "full": full, "digest": digest, "prefs": prefs, "warnings": warnings})
    return ComposeLoad(stack=stack, assembled=asm)


def load_stack(path: Path | str, *, profiles: Iterable[str] = (), strict_versions: bool | None = None) -> StackFile:
    """The compose file as a validated stack (what ``services.load_stack`` returns for a YAML file); a
    warm load of an unchanged file reads the mapped stack from the cache (:mod:`._cache`)."""
    resolved = Path(path).resolve()
    profiles = tuple(profiles)
    try:
        raw = resolved.read_bytes()
    except OSError:
        raw = b""
    entry = read_cache(resolved, raw, profiles) if raw else None
    if entry is not None:
        strict = strict_from_env() if strict_versions is None else strict_versions
        try:
            return _finish(resolved, entry["plain"], entry["prefs"], strict, entry["warnings"], entry["digest"],
                           entry["full"], lambda exc: exc)
        except ConfigError:
            if strict:
                raise
    return load_compose(resolved, profiles=profiles, strict_versions=strict_versions).stack


def import_compose(path: Path | str, *, profiles: Iterable[str] = (), environ: Mapping[str, str] | None = None,
                   command: str = "") -> str:
    """The commented stackrig.toml equivalent of a compose file (validated like a run's)."""
    from ..services import RUNTIMES, registry
    from ._assemble import assemble
    from ._parse import parse_compose
    from ._toml import render

    path = Path(path).resolve()
    raw = _read(path)
    asm = assemble(parse_compose(path, raw, profiles=profiles, environ=environ))

    text = render(asm, comments=True, versions=None, command=command)
    try:
        parse_stack(path.with_name("stackrig.toml"), text.encode(), registry().specs(), RUNTIMES.keys())
    except ConfigError as exc:
        raise _relocate(asm, exc) from None
    return text
