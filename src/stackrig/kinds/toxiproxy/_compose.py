"""`shopify/toxiproxy` in a compose file as `kind = "toxiproxy"` (stackrig's fault server).

The API port (8474) is the service's port.  A ``-config FILE`` that is mounted is read: each proxy
listens on an allocated port (others' ``toxiproxy:LISTEN_PORT`` addresses are rewritten to it) and
its upstream (``redis:6379``) is rewritten like any address.  Proxies created later through the API
listen where they ask.
"""

from __future__ import annotations

import json
from typing import Any

from ...compose import ComposeImage, ComposeMapping, ComposeService, Unsupported

__all__ = ["IMAGE"]


def to_stack(svc: ComposeService) -> ComposeMapping:
    m = ComposeMapping(rewrite=("proxies",))
    argv = list(svc.command or ())
    m.used_command = svc.command is not None
    config = None
    for i, arg in enumerate(argv):
        value = None
        if arg in ("-config", "--config") and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith(("-config=", "--config=")):
            value = arg.split("=", 1)[1]
        if value is not None:
            config = (i, value)
        elif arg.startswith("-") and not arg.startswith(("-host", "--host", "-port", "--port")):
            m.dropped(("command", i), f"toxiproxy flag {arg}: dropped")
    proxies: dict[str, str] = {}
    if config is not None:
        at, path = config
        local = svc.local(path)
        if local is None or not local.is_file():
            raise Unsupported(("command", at), f"-config {path} is not a mounted file",
                              hint="bind-mount the JSON file at that path")
        try:
            entries: Any = json.loads(local.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise Unsupported(("command", at), f"{svc.relative(local)} is not valid JSON: {exc}",
                              hint="fix the file (a JSON list of {name, listen, upstream})") from None
        for v in svc.volumes:
            if v.path is not None and (v.target == path or path.startswith(v.target.rstrip("/") + "/")):
                m.used_volumes.add(v.index)
        for entry in entries if isinstance(entries, list) else []:
            name, listen, upstream = entry.get("name"), str(entry.get("listen", "")), entry.get("upstream")
            if not isinstance(name, str) or not isinstance(upstream, str):
                continue
            proxies[name] = upstream
            port = listen.rsplit(":", 1)[-1]
            if port.isdigit():
                m.ports[int(port)] = f"listen.{name}"
        m.mapped(("command", at), f"{svc.relative(local)} → proxies ({', '.join(proxies) or 'none'}), each on an "
                 "allocated port")
    else:
        m.warn(("command",), "no -config: proxies the tests create through the API listen at the fixed ports they "
               "name")
    if proxies:
        m.table["proxies"] = proxies
    return m


IMAGE = ComposeImage(
    images=("shopify/toxiproxy",),
    ports={8474: "port"},
    map=to_stack,
    summary="the Toxiproxy API (8474) → stackrig's fault server; a mounted `-config` → `proxies`, each on an "
            "allocated port",
    versioned=False,
)
