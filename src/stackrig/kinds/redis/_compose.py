"""`redis:6` / `valkey/valkey` in a compose file as `kind = "redis"` (docs/compose.md).

``redis-server --appendonly yes --maxmemory 100mb`` flags and a mounted ``redis.conf`` become the
`config` table (less what stackrig sets itself: port, bind, dir, daemonize, ...); ``--port N``
moves the container port others address.  The tag is the version preference.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from ...compose import ComposeImage, ComposeMapping, ComposeService

__all__ = ["IMAGE"]

_OWN = {"port", "bind", "dir", "daemonize", "pidfile", "logfile", "unixsocket", "unixsocketperm", "protected-mode",
        "supervised", "include", "tls-port"}
_SERVERS = ("redis-server", "valkey-server", "redis-stack-server", "docker-entrypoint.sh")


def _directives(text: str) -> list[tuple[str, str]]:
    found = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition(" ")
        found.append((key.lower(), value.strip().strip("\"")))
    return found


def to_stack(svc: ComposeService) -> ComposeMapping:
    m = ComposeMapping()
    config: dict[str, Any] = {}
    argv = list(svc.command or ())
    if argv and PurePosixPath(argv[0]).name in _SERVERS:
        argv = argv[1:]
    if svc.command is not None:
        m.used_command = True
    i = 0
    pairs: list[tuple[str, str, int]] = []
    while i < len(argv):
        arg = argv[i]
        if arg.startswith("--"):
            j = i + 1
            while j < len(argv) and not argv[j].startswith("--"):
                j += 1
            pairs.append((arg[2:].lower(), " ".join(argv[i + 1:j]), i))
            i = j
            continue
        local = svc.local(arg) if arg.startswith("/") else None
        if local is not None and local.is_file():
            pairs.extend((k, v, i) for k, v in _directives(local.read_text(encoding="utf-8", errors="replace")))
            for v in svc.volumes:
                if v.target == arg:
                    m.used_volumes.add(v.index)
            m.mapped(("command", i), f"{arg} → config")
        else:
            m.warn(("command", i), f"redis-server argument {arg!r}: dropped (not a mounted config file)")
        i += 1
    for key, value, at in pairs:
        if key == "port" and value.isdigit():
            m.ports[int(value)] = "port"
            m.mapped(("command", at), f"--port {value}: others address it at that container port")
        elif key in _OWN:
            m.dropped(("command", at), f"{key}: stackrig sets it for the local server")
        else:
            config[key] = value
            if key == "requirepass":
                m.warn(("command", at), "requirepass: the server asks for the password; rig.redis() and the "
                       "per-test flush do not send it")
    password = m.take(svc, ("REDIS_PASSWORD",)).get("REDIS_PASSWORD")
    if password and "requirepass" not in config:
        config["requirepass"] = password
        m.warn(("environment", "REDIS_PASSWORD"), "REDIS_PASSWORD → requirepass (rig.redis() and the per-test flush "
               "do not send it)")
    m.take(svc, ("ALLOW_EMPTY_PASSWORD",))
    if config:
        m.mapped(("command",), f"command flags → config ({', '.join(sorted(config))})")
    for v in svc.volumes:
        if v.index not in m.used_volumes and v.target == "/data":
            m.used_volumes.add(v.index)
            m.dropped(("volumes", v.index), "/data: persistence — every run starts empty")
    m.table = {"config": config} if config else {}
    m.version = svc.image.version if svc.image is not None else None
    return m


IMAGE = ComposeImage(
    images=("redis", "valkey/valkey", "bitnami/redis"),
    ports={6379: "port"},
    map=to_stack,
    summary="`redis-server --key value` flags and a mounted `redis.conf` → `config`; `--port` moves the container "
            "port; `/data` dropped",
)
