"""The kind registry: every kind comes from the ``stackrig.kinds`` entry-point group.

Built-in kinds register exactly as a third-party package does, in stackrig's own packaging
metadata::

    [project.entry-points."stackrig.kinds"]
    postgres = "stackrig.kinds.postgres:KIND"

A kind's module is imported only when a stack file uses it (or ``doctor``/``kinds`` list it).
Scanning the installed distributions costs ~50 ms here, which the CLI's start-up cannot pay on
every call, so the scan is cached under the cache dir, keyed on every ``sys.path`` folder and its
modification time (installing or removing a package changes its folder's).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from .._paths import cache_dir
from ..config import ServiceSpec, StackFile, load_stack as _load_stack
from ..errors import ConfigError, StackrigError
from ._kind import ServiceKind

__all__ = ["ENTRY_POINT_GROUP", "KindRegistry", "registry", "load_stack", "BUILTIN_KINDS"]

ENTRY_POINT_GROUP = "stackrig.kinds"
_CACHE_FORMAT = 1

# Used only when stackrig runs from a source tree without its metadata installed (tests check that
# this list and pyproject.toml's entry points agree).
BUILTIN_KINDS = {
    "postgres": "stackrig.kinds.postgres:KIND",
    "redis": "stackrig.kinds.redis:KIND",
    "process": "stackrig.kinds.process:KIND",
    "http-stub": "stackrig.kinds.http_stub:KIND",
    "smtp": "stackrig.kinds.smtp:KIND",
    "rabbitmq": "stackrig.kinds.rabbitmq:KIND",
    "nats": "stackrig.kinds.nats:KIND",
    "mqtt": "stackrig.kinds.mqtt:KIND",
    "aws": "stackrig.kinds.aws:KIND",
    "toxiproxy": "stackrig.kinds.toxiproxy:KIND",
}


def _path_key() -> list[list[object]]:
    key: list[list[object]] = [[sys.executable, _CACHE_FORMAT]]
    for entry in sys.path:
        try:
            st = os.stat(entry or ".")
        except OSError:
            continue
        if entry and os.path.isdir(entry):
            key.append([entry, st.st_mtime_ns])
    return key


def _scan() -> dict[str, tuple[str, str]]:
    """name -> (entry-point value, distribution) for the group, from the installed metadata."""
    from importlib.metadata import distributions

    found: dict[str, tuple[str, str]] = {}
    conflicts: list[str] = []
    for dist in distributions():
        for ep in dist.entry_points:
            if ep.group != ENTRY_POINT_GROUP:
                continue
            dist_name = dist.metadata["Name"] or "?"
            if ep.name in found and found[ep.name][0] != ep.value:
                conflicts.append(f"kind '{ep.name}': {found[ep.name][0]} ({found[ep.name][1]}) "
                                 f"and {ep.value} ({dist_name})")
                continue
            found.setdefault(ep.name, (ep.value, dist_name))
    if conflicts:
        raise StackrigError(
            "two installed packages register the same service kind:\n  " + "\n  ".join(conflicts),
            hint="uninstall one of them (pip uninstall ...); a kind name is registered once")
    return found


def _discover() -> dict[str, tuple[str, str]]:
    cache = cache_dir() / "kinds.json"
    key = _path_key()
    if os.environ.get("STACKRIG_KIND_CACHE", "1") not in ("0", "off", "no"):
        try:
            data = json.loads(cache.read_text())
            if data.get("key") == key:
                return {k: (v[0], v[1]) for k, v in data["kinds"].items()}
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            pass
    found = _scan()
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"key": key, "kinds": {k: list(v) for k, v in found.items()}}))
        tmp.replace(cache)
    except OSError:
        pass
    return found


class KindRegistry:
    """The kinds a stack file may use, loaded on first use."""

    def __init__(self, entries: Mapping[str, tuple[str, str]]) -> None:
        self._entries = dict(entries)
        self._loaded: dict[str, ServiceKind] = {}
        self._lock = threading.Lock()

    def names(self) -> list[str]:
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def origin(self, name: str) -> str:
        """Where a kind comes from: ``stackrig.kinds.postgres:KIND (stackrig)``."""
        value, dist = self._entries[name]
        return f"{value} ({dist})"

    def get(self, name: str) -> ServiceKind:
        with self._lock:
            if name in self._loaded:
                return self._loaded[name]
        if name not in self._entries:
            raise StackrigError(f"no service kind named {name!r} is installed; kinds: {', '.join(self._entries)}",
                                hint="install the package that provides it, or fix the `kind`")
        value, dist = self._entries[name]
        module_name, _, attr = value.partition(":")
        try:
            found: object = importlib.import_module(module_name)
            for part in (attr or "KIND").split("."):
                found = getattr(found, part)
        except Exception as exc:  # noqa: BLE001 - a broken plugin must say which one
            raise StackrigError(
                f"service kind '{name}' ({value}, from {dist}) could not be loaded: {type(exc).__name__}: {exc}",
                hint=f"reinstall {dist}, or remove it if you do not use kind = {name!r}") from exc
        if not isinstance(found, ServiceKind):
            raise StackrigError(f"service kind '{name}' ({value}, from {dist}) is not a stackrig ServiceKind "
                                f"but {type(found).__name__}",
                                hint="the entry point must name a stackrig.services.ServiceKind object")
        if found.name != name:
            raise StackrigError(f"the entry point '{name}' ({value}, from {dist}) names a kind called "
                                f"'{found.name}'", hint="make the entry point's name and ServiceKind.name agree")
        with self._lock:
            self._loaded[name] = found
        return found

    def all(self) -> list[ServiceKind]:
        return [self.get(name) for name in self._entries]

    def add(self, kind: ServiceKind) -> None:
        """Register a kind in this process only (tests, embedding applications)."""
        with self._lock:
            self._entries[kind.name] = (f"{kind.service.__module__}", "registered in-process")
            self._loaded[kind.name] = kind

    def specs(self) -> Mapping[str, type[ServiceSpec]]:
        """name -> stack-file model, importing a kind only when the loader looks it up."""
        return _Specs(self)


class _Specs(Mapping[str, type[ServiceSpec]]):
    def __init__(self, registry: KindRegistry) -> None:
        self._registry = registry

    def __getitem__(self, name: str) -> type[ServiceSpec]:
        if name not in self._registry:
            raise KeyError(name)
        return self._registry.get(name).spec

    def __iter__(self) -> Iterator[str]:
        return iter(self._registry.names())

    def __len__(self) -> int:
        return len(self._registry.names())

    def __contains__(self, name: object) -> bool:
        return name in self._registry


_registry: KindRegistry | None = None
_registry_lock = threading.Lock()


def registry() -> KindRegistry:
    """The process's kind registry (discovered once)."""
    global _registry
    with _registry_lock:
        if _registry is None:
            entries = _discover()
            if not any(dist == "stackrig" for _, dist in entries.values()):
                # a source tree without installed metadata: the built-ins still register
                entries = {**{k: (v, "stackrig (source tree)") for k, v in BUILTIN_KINDS.items()}, **entries}
            builtin = [k for k in BUILTIN_KINDS if k in entries]
            ordered = {k: entries[k] for k in [*builtin, *sorted(set(entries) - set(builtin))]}
            _registry = KindRegistry(ordered)
        return _registry


def reset_registry() -> None:
    """Forget the discovered kinds (after installing a kind package in a running process)."""
    global _registry
    with _registry_lock:
        _registry = None


def runtime_names() -> Iterable[str]:
    """Names a service may use as `${name}` (runtimes the kinds find, e.g. `${node}`)."""
    from ._runtimes import RUNTIMES

    return RUNTIMES.keys()


def load_stack(path: Path | str, *, profiles: Iterable[str] = (), strict_versions: bool | None = None) -> StackFile:
    """Read and validate a stack file against the installed kinds; raise :class:`ConfigError`.

    A compose file (``.yml``/``.yaml``) goes to the compose front door, which maps it onto the kinds
    and validates the result the same way (docs/compose.md); `profiles` and `strict_versions` are its."""
    from ..config._find import is_compose_file

    try:
        kinds = registry()
    except StackrigError as exc:
        raise ConfigError(exc.message, file=path, hint=exc.hint) from None
    if is_compose_file(path):
        # a front door above this layer: looked up, like a kind, never imported
        compose = importlib.import_module("stackrig.compose")
        stack: StackFile = compose.load_stack(path, profiles=profiles, strict_versions=strict_versions)
        return stack
    return _load_stack(path, kinds.specs(), runtime_names())
