"""`nats:2.10` in a compose file as `kind = "nats"` (docs/compose.md).

The server's flags in `command` are mapped: ``-js``/``--jetstream`` → `jetstream`, ``-m``/
``--http_port`` → the monitoring port (``${monitor_port}``), ``--user``/``--pass`` and ``--auth`` →
`user`/`password` and `token`, ``--max_payload``; ``-p`` moves the container port others address.
The tag is the version preference.
"""

from __future__ import annotations

from typing import Any

from ...compose import ComposeImage, ComposeMapping, ComposeService

__all__ = ["IMAGE"]

_VALUED = {"-p", "--port", "-m", "--http_port", "-ms", "--https_port", "--user", "--pass", "--auth", "-sd",
           "--store_dir", "-c", "--config", "-n", "--name", "--server_name", "--max_payload", "-a", "--addr",
           "--net", "--cluster", "--routes", "--cluster_name", "-l", "--log", "-P", "--pid"}
_DROPPED = {"-sd": "JetStream's store is on the run's data folder", "--store_dir": "JetStream's store is on the "
            "run's data folder", "-n": "the server is named after the service", "--name": "the server is named after "
            "the service", "--server_name": "the server is named after the service", "-a": "it listens on 127.0.0.1",
            "--addr": "it listens on 127.0.0.1", "--net": "it listens on 127.0.0.1", "--cluster": "stackrig runs one "
            "server", "--routes": "stackrig runs one server", "--cluster_name": "stackrig runs one server",
            "-l": "the log is the service's", "--log": "the log is the service's", "-P": "stackrig supervises it",
            "--pid": "stackrig supervises it"}


def _flags(argv: list[str]) -> list[tuple[str, str | None, int]]:
    out: list[tuple[str, str | None, int]] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if "=" in arg and arg.startswith("-"):
            flag, _, value = arg.partition("=")
            out.append((flag, value, i))
            i += 1
        elif arg in _VALUED and i + 1 < len(argv):
            out.append((arg, argv[i + 1], i))
            i += 2
        else:
            out.append((arg, None, i))
            i += 1
    return out


def to_stack(svc: ComposeService) -> ComposeMapping:
    m = ComposeMapping()
    table: dict[str, Any] = {}
    argv = list(svc.command or ())
    if argv and argv[0].rsplit("/", 1)[-1] == "nats-server":
        argv = argv[1:]
    if svc.command is not None:
        m.used_command = True
    for flag, value, at in _flags(argv):
        where = ("command", at)
        if flag in ("-js", "--jetstream"):
            table["jetstream"] = True
            m.mapped(where, f"{flag} → jetstream = true")
        elif flag in ("-m", "--http_port", "-ms", "--https_port") and value and value.isdigit():
            m.ports[int(value)] = "monitor_port"
            m.mapped(where, f"{flag} {value} → the monitoring port (${{monitor_port}})")
        elif flag in ("-p", "--port") and value and value.isdigit():
            m.ports[int(value)] = "port"
            m.mapped(where, f"{flag} {value}: others address it at that container port")
        elif flag == "--user" and value:
            table["user"] = value
        elif flag == "--pass" and value:
            table["password"] = value
        elif flag == "--auth" and value:
            table["token"] = value
            m.mapped(where, "--auth → token")
        elif flag == "--max_payload" and value:
            table["max_payload"] = int(value) if value.isdigit() else value
        elif flag in ("-c", "--config"):
            m.warn(where, f"{flag} {value}: the config file is not read; give its settings as flags")
        elif flag in _DROPPED:
            m.dropped(where, f"{flag}: {_DROPPED[flag]}")
        elif flag in ("-D", "-V", "-DV", "-DVV", "--debug", "--trace"):
            m.dropped(where, f"{flag}: logging flags are dropped")
        else:
            m.warn(where, f"nats-server flag {flag!r}: dropped")
    if "user" in table:
        m.mapped(("command",), "--user/--pass → user, password")
    for v in svc.volumes:
        if v.type == "volume" or v.target in ("/data", "/tmp/nats"):
            m.used_volumes.add(v.index)
            m.dropped(("volumes", v.index), f"{v.target}: JetStream's store is on the run's data folder")
    m.table = table
    m.version = svc.image.version if svc.image is not None else None
    return m


IMAGE = ComposeImage(
    images=("nats",),
    ports={4222: "port", 8222: "monitor_port"},
    map=to_stack,
    summary="`-js`/`--jetstream` → `jetstream = true`; `-m` → the monitoring port; `--user`/`--pass`, `--auth` "
            "→ `user`/`password`, `token`",
)
