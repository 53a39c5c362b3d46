"""`eclipse-mosquitto:2` in a compose file as `kind = "mqtt"` (docs/compose.md).

A mounted ``mosquitto.conf`` is read: ``allow_anonymous`` → `anonymous`, a ``listener 1883`` on
another port moves the container port others address; persistence, logging and further listeners
(websockets) are dropped with a note; a ``password_file`` cannot be mapped (its passwords are
hashed): set `user`/`password` with ``x-stackrig`` instead.  The tag is the version preference.
"""

from __future__ import annotations

from typing import Any

from ...compose import ComposeImage, ComposeMapping, ComposeService

__all__ = ["IMAGE"]

_DROPPED = ("persistence", "persistence_location", "persistence_file", "autosave_interval", "log_dest", "log_type",
            "log_timestamp", "connection_messages", "pid_file", "user")


def to_stack(svc: ComposeService) -> ComposeMapping:
    m = ComposeMapping()
    table: dict[str, Any] = {}
    for v in svc.volumes:
        if v.path is None or not v.target.endswith(".conf"):
            continue
        local = v.path
        if not local.is_file():
            continue
        m.used_volumes.add(v.index)
        listeners = 0
        protocol_ws = False
        for line in local.read_text(encoding="utf-8", errors="replace").splitlines():
            words = line.split()
            if not words or words[0].startswith("#"):
                continue
            key = words[0]
            if key == "allow_anonymous" and len(words) > 1:
                table["anonymous"] = words[1].lower() == "true"
                m.mapped(("volumes", v.index), f"allow_anonymous {words[1]} → anonymous")
            elif key == "listener" and len(words) > 1 and words[1].isdigit():
                listeners += 1
                if listeners == 1:
                    m.ports[int(words[1])] = "port"
                else:
                    m.warn(("volumes", v.index), f"listener {words[1]}: only the first listener is served")
            elif key == "protocol" and len(words) > 1 and words[1] == "websockets":
                protocol_ws = True
            elif key == "password_file":
                m.warn(("volumes", v.index), "password_file: not mapped (hashed passwords); set "
                       "`x-stackrig` user/password or allow anonymous access")
            elif key in _DROPPED:
                m.dropped(("volumes", v.index), f"{key}: dropped (stackrig's broker keeps nothing between runs)")
            else:
                m.warn(("volumes", v.index), f"{key}: not applied")
        if protocol_ws:
            m.warn(("volumes", v.index), "websockets listener: not served (MQTT over TCP only)")
        if table.get("anonymous") is False:
            table.pop("anonymous")
            m.warn(("volumes", v.index), "allow_anonymous false: without its users the broker would refuse every "
                   "client; stackrig's broker allows anonymous access")
    for v in svc.volumes:
        if v.index not in m.used_volumes and (v.type == "volume" or v.target.startswith("/mosquitto/data")):
            m.used_volumes.add(v.index)
            m.dropped(("volumes", v.index), f"{v.target}: persistence — every run starts empty")
    m.table = table
    m.version = svc.image.version if svc.image is not None else None
    return m


IMAGE = ComposeImage(
    images=("eclipse-mosquitto",),
    ports={1883: "port"},
    map=to_stack,
    summary="a mounted `mosquitto.conf`: `allow_anonymous`, the first `listener`; persistence and logging dropped",
)
