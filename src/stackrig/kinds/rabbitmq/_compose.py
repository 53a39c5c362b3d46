"""`rabbitmq:3-management` in a compose file as `kind = "rabbitmq"` (docs/compose.md).

``RABBITMQ_DEFAULT_USER``/``PASS``/``VHOST`` become `user`, `password`, `vhost`; a ``-management`` tag
turns `management` on (its container port 15672 is ``${management_port}``); a mounted definitions
file (``load_definitions`` in a mounted ``rabbitmq.conf``, in ``RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS``,
or a ``definitions.json`` under ``/etc/rabbitmq``) becomes `definitions`; a mounted
``enabled_plugins`` becomes `plugins`.  The tag is the version preference.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any

from ...compose import ComposeImage, ComposeMapping, ComposeService

__all__ = ["IMAGE"]

_LOAD = re.compile(r"load_definitions\s*[=,]?\s*\"?([^\s\"}]+)\"?")
_PLUGIN = re.compile(r"rabbitmq_[a-z0-9_]+")


def _definitions(svc: ComposeService, m: ComposeMapping, table: dict[str, Any]) -> None:
    named: str | None = None
    args = svc.environment.get("RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS", "")
    found = _LOAD.search(args)
    if found:
        named = found.group(1)
        m.used_env.add("RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS")
    for v in svc.volumes:
        if v.path is None:
            continue
        target = PurePosixPath(v.target)
        if target.name in ("rabbitmq.conf", "rabbitmq.config") and v.path.is_file():
            m.used_volumes.add(v.index)
            kept = []
            for line in v.path.read_text(encoding="utf-8", errors="replace").splitlines():
                hit = _LOAD.search(line)
                if hit and not line.lstrip().startswith(("#", "%")):
                    named = hit.group(1)
                elif line.strip() and not line.lstrip().startswith(("#", "%")):
                    kept.append(line.strip())
            if kept:
                m.warn(("volumes", v.index), f"{v.target}: {len(kept)} setting(s) not applied "
                       f"({'; '.join(kept[:3])}{' ...' if len(kept) > 3 else ''}); advanced_config takes Erlang terms")
        elif target.name == "enabled_plugins" and v.path.is_file():
            m.used_volumes.add(v.index)
            plugins = [p for p in _PLUGIN.findall(v.path.read_text(encoding="utf-8", errors="replace"))]
            if "rabbitmq_management" in plugins:
                table["management"] = True
            extra = [p for p in plugins if p not in ("rabbitmq_management", "rabbitmq_management_agent",
                                                      "rabbitmq_web_dispatch")]
            if extra:
                table["plugins"] = extra
            m.mapped(("volumes", v.index), f"{v.target} → plugins ({', '.join(plugins) or 'none'})")
    if named is None:
        for v in svc.volumes:
            if v.path is not None and v.target.startswith("/etc/rabbitmq/") and v.target.endswith(".json"):
                named = v.target
    if named is not None:
        local = svc.local(named)
        if local is not None and local.is_file():
            table["definitions"] = svc.relative(local)
            for v in svc.volumes:
                if v.target == named or (v.path is not None and PurePosixPath(named).is_relative_to(v.target)):
                    m.used_volumes.add(v.index)
            m.mapped(("volumes",), f"definitions {named} → definitions = {table['definitions']!r}")
        else:
            m.warn(("environment",), f"load_definitions {named}: not a mounted file — not loaded")


def to_stack(svc: ComposeService) -> ComposeMapping:
    m = ComposeMapping()
    env = m.take(svc, ("RABBITMQ_DEFAULT_USER", "RABBITMQ_DEFAULT_PASS", "RABBITMQ_DEFAULT_VHOST"))
    table: dict[str, Any] = {}
    for var, key in (("RABBITMQ_DEFAULT_USER", "user"), ("RABBITMQ_DEFAULT_PASS", "password"),
                     ("RABBITMQ_DEFAULT_VHOST", "vhost")):
        if env.get(var):
            table[key] = env[var]
            m.mapped(("environment", var), f"{var} → {key}")
    if "user" in table and "password" not in table:
        table["password"] = "guest"
    image = svc.image
    if image is not None and "management" in image.variants:
        table["management"] = True
        m.mapped(("image",), f"tag {image.tag}: the management plugin on an allocated port (${{management_port}})")
    for var in ("RABBITMQ_ERLANG_COOKIE", "RABBITMQ_NODENAME", "RABBITMQ_USE_LONGNAME"):
        if var in svc.environment:
            m.used_env.add(var)
            m.dropped(("environment", var), f"{var}: stackrig runs one node of its own")
    _definitions(svc, m, table)
    if svc.command is not None:
        m.used_command = PurePosixPath(svc.command[0]).name == "rabbitmq-server" and len(svc.command) == 1
    for v in svc.volumes:
        if v.index not in m.used_volumes and v.target.startswith("/var/lib/rabbitmq"):
            m.used_volumes.add(v.index)
            m.dropped(("volumes", v.index), f"{v.target}: the node's data — every run boots the prepared node")
    m.table = table
    m.version = image.version if image is not None else None
    return m


IMAGE = ComposeImage(
    images=("rabbitmq",),
    ports={5672: "port", 15672: "management_port"},
    map=to_stack,
    summary="`RABBITMQ_DEFAULT_USER`/`PASS`/`VHOST` → `user`, `password`, `vhost`; a `-management` tag → "
            "`management = true` (15672 → `${management_port}`); mounted definitions → `definitions`; "
            "`enabled_plugins` → `plugins`",
)
