"""A compose file after validation: its services, normalised (short and long syntaxes made one).

Also the small syntaxes of the specification: ports (``[IP:][HOST:]CONTAINER[/PROTO]``, ranges,
the long form), volumes (``SRC:DST[:MODE]`` and the long form), durations (``1m30s``),
``depends_on`` (a list, or a mapping with conditions), healthcheck tests (``CMD``, ``CMD-SHELL``,
``NONE``, a string).
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ._hook import ComposeService, ImageRef, Key, Note, PortMapping, Volume
from ._yaml import Lines, locate

__all__ = ["BuildDef", "ComposeDoc", "Dependency", "HealthDef", "Located", "ServiceDef", "duration",
           "parse_port", "parse_volume", "split_command"]

CONDITIONS = ("service_started", "service_healthy", "service_completed_successfully")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNIT = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


class Located:
    """Errors located in one compose file: file, line (from the YAML marks) and key path."""

    def __init__(self, path: Path, lines: Lines) -> None:
        self.path = path
        self.lines = lines

    def line(self, keys: Key) -> int | None:
        return locate(self.lines, keys)

    def error(self, keys: Key, message: str, hint: str | None = None) -> ConfigError:
        return ConfigError(message, file=self.path, line=self.line(keys), key=".".join(str(k) for k in keys),
                           hint=hint)


@dataclass(frozen=True)
class Dependency:
    condition: str = "service_started"
    required: bool = True


@dataclass(frozen=True)
class HealthDef:
    """A healthcheck: `argv` (CMD) or `shell` (CMD-SHELL / a string); neither when disabled."""

    argv: tuple[str, ...] | None = None
    shell: str | None = None
    disabled: bool = False
    timeout: float | None = None
    retries: int | None = None
    start_period: float | None = None
    interval: float | None = None

    @property
    def text(self) -> str:
        return self.shell if self.shell is not None else shlex.join(self.argv or ())


@dataclass(frozen=True)
class BuildDef:
    context: Path
    dockerfile: Path | None  # None with `dockerfile_inline`
    inline: str | None = None
    args: Mapping[str, str | None] = field(default_factory=dict)
    target: str | None = None
    remote: bool = False  # a git or https context


@dataclass
class ServiceDef:
    """One compose service, normalised; `svc` is what kinds see."""

    name: str
    svc: ComposeService
    build: BuildDef | None = None
    working_dir: str | None = None
    depends_on: dict[str, Dependency] = field(default_factory=dict)
    healthcheck: HealthDef | None = None
    profiles: tuple[str, ...] = ()
    aliases: set[str] = field(default_factory=set)
    x: dict[str, Any] = field(default_factory=dict)  # x-stackrig
    replicas: int = 1
    stop_timeout: float | None = None
    notes: list[Note] = field(default_factory=list)
    command_form: str = ""  # "string" or "list": how `command` was written
    env_keys: dict[str, Key] = field(default_factory=dict)  # variable -> where it was set
    links: list[tuple[str, str]] = field(default_factory=list)  # (service, alias) from `links`

    @property
    def keys(self) -> Key:
        return ("services", self.name)


@dataclass
class ComposeDoc:
    path: Path
    root: Path
    located: Located
    services: dict[str, ServiceDef]
    settings: dict[str, Any]
    profiles: tuple[str, ...]
    notes: list[tuple[Key, Note]]  # top-level notes (networks, volumes, ...)
    inputs: list[Path]  # files the stack depends on (env files, Dockerfiles): part of its digest
    skipped: dict[str, str] = field(default_factory=dict)  # service -> why it is not run
    variables: dict[str, str | None] = field(default_factory=dict)  # interpolated variables and their values


def duration(text: str) -> float | None:
    """Seconds in a compose duration (``1m30s``, ``500ms``, ``10s``); None when it is not one."""
    t = str(text).strip()
    if not t:
        return None
    pos = 0
    total = 0.0
    for m in _DURATION.finditer(t):
        if m.start() != pos:
            return None
        total += float(m.group(1)) * _UNIT[m.group(2)]
        pos = m.end()
    return total if pos == len(t) else None


def split_command(value: Any) -> tuple[str, ...] | None:
    """`command`/`entrypoint` as argv: a string is split the way compose splits it (no shell)."""
    if value is None:
        return None
    if isinstance(value, str):
        return tuple(shlex.split(value))
    return tuple(str(v) for v in value)


def _port_range(text: str) -> list[int] | None:
    a, sep, b = text.partition("-")
    if not a.isdigit() or (sep and not b.isdigit()):
        return None
    lo, hi = int(a), int(b) if sep else int(a)
    if not 0 < lo <= hi <= 65535:
        return None
    return list(range(lo, hi + 1))


def parse_port(value: Any, index: int, key: str = "ports") -> list[PortMapping] | str:
    """The container ports of one `ports`/`expose` entry, or why it is not valid."""
    if isinstance(value, bool):
        return "expected a port such as \"8000:8000\""
    if isinstance(value, int):
        return [PortMapping(index, value, None, "tcp", key)] if 0 < value <= 65535 else f"port {value} is out of range"
    if isinstance(value, Mapping):
        target = value.get("target")
        ports = _port_range(str(target)) if target is not None else None
        if not ports:
            return "the long syntax needs `target: CONTAINER_PORT`"
        published = value.get("published")
        proto = str(value.get("protocol", "tcp"))
        return [PortMapping(index, p, str(published) if published is not None else None, proto, key) for p in ports]
    text = str(value).strip()
    body, _, proto = text.partition("/")
    proto = proto or "tcp"
    parts = body.rsplit(":", 2)  # [IP:][HOST:]CONTAINER, the IP may be IPv6 ("::1")
    container = parts[-1]
    published = parts[-2] if len(parts) >= 2 else None
    ports = _port_range(container)
    if not ports:
        return f"{text!r} is not [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]"
    if published:
        host_ports = _port_range(published)
        if host_ports is None:
            return f"{text!r}: host port {published!r} is not a port or a range"
    return [PortMapping(index, p, published or None if key == "ports" else None, proto, key) for p in ports]


def _bind_source(source: str, root: Path) -> str:
    expanded = os.path.expanduser(source)
    p = Path(expanded)
    return str((root / p).resolve() if not p.is_absolute() else p)


def parse_volume(value: Any, index: int, root: Path) -> Volume | str:
    """One `volumes` entry, or why it is not valid."""
    if isinstance(value, Mapping):
        kind = str(value.get("type", ""))
        target = value.get("target")
        if not kind or not isinstance(target, str):
            return "the long syntax needs `type:` and `target:`"
        source = value.get("source")
        read_only = bool(value.get("read_only", False))
        if kind == "bind" and isinstance(source, str):
            return Volume(index, "bind", target, _bind_source(source, root), read_only)
        return Volume(index, kind, target, str(source) if source is not None else None, read_only)
    if not isinstance(value, str) or not value.strip():
        return "expected SOURCE:TARGET[:MODE] or the long syntax"
    parts = value.split(":")
    if len(parts) == 1:
        return Volume(index, "volume", parts[0], None)
    source, target = parts[0], parts[1]
    mode = parts[2] if len(parts) > 2 else ""
    read_only = "ro" in mode.split(",")
    if not target.startswith("/"):
        return f"{value!r}: the target {target!r} must be an absolute container path"
    if source.startswith((".", "/", "~")):
        return Volume(index, "bind", target, _bind_source(source, root), read_only)
    return Volume(index, "volume", target, source, read_only)


def parse_depends(value: Any) -> dict[str, Dependency] | str:
    if isinstance(value, list):
        if not all(isinstance(v, str) for v in value):
            return "a list of service names"
        return {v: Dependency() for v in value}
    found: dict[str, Dependency] = {}
    for name, body in value.items():
        if body is None:
            body = {}
        if not isinstance(body, Mapping):
            return f"`{name}`: expected a mapping with `condition:`"
        condition = body.get("condition", "service_started")
        if condition not in CONDITIONS:
            return f"`{name}`: condition {condition!r} is not one of {', '.join(CONDITIONS)}"
        required = body.get("required", True)
        found[str(name)] = Dependency(str(condition), bool(required))
    return found


def parse_healthcheck(value: Mapping[str, Any]) -> HealthDef | str:
    if value.get("disable") in (True, "true"):
        return HealthDef(disabled=True)
    test = value.get("test")
    times: dict[str, float | None] = {}
    for key in ("timeout", "start_period", "interval"):
        raw = value.get(key)
        if raw is None:
            times[key] = None
            continue
        seconds = duration(str(raw))
        if seconds is None:
            return f"`{key}`: {raw!r} is not a duration such as \"10s\" or \"1m30s\""
        times[key] = seconds
    retries_raw = value.get("retries")
    try:
        retries = int(retries_raw) if retries_raw is not None else None
    except (TypeError, ValueError):
        return f"`retries`: {retries_raw!r} is not a number"
    common: dict[str, Any] = {"timeout": times["timeout"], "start_period": times["start_period"],
                              "interval": times["interval"], "retries": retries}
    if test is None:
        return HealthDef(**common)
    if isinstance(test, str):
        return HealthDef(shell=test, **common)
    items = [str(t) for t in test]
    if not items:
        return "`test`: an empty list"
    head = items[0]
    if head == "NONE":
        return HealthDef(disabled=True)
    if head == "CMD":
        return HealthDef(argv=tuple(items[1:]), **common) if items[1:] else "`test`: CMD with no command"
    if head == "CMD-SHELL":
        return HealthDef(shell=" ".join(items[1:]), **common) if items[1:] else "`test`: CMD-SHELL with no command"
    return f"`test`: the first item must be CMD, CMD-SHELL or NONE, found {head!r}"


def image_of(value: Any) -> ImageRef | None:
    return ImageRef.parse(value) if isinstance(value, str) and value.strip() else None
