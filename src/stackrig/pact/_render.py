"""What a stub answered a journaled request: its response rendered again, in this process.

The stub server's journal keeps the request and the mapping that matched it, not the bytes sent
back; rendering that mapping for that request with the stub engine gives the same answer (the
same templates, the same ``__files`` body), so the pact holds the response as exchanged.  Only
template helpers that are random or read the clock (``randomValue``, ``now``) render differently —
the pact gives such values ``type`` rules (see :mod:`._from_stub`).

When the journal carries the response itself (WireMock's own ``response`` with ``body`` or
``bodyAsBase64`` and ``headers``), that is used as is.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = ["Rendered", "render_response"]

_SKIP = {"matched-stub-id", "content-length", "transfer-encoding", "connection", "date", "server",
         "keep-alive", "vary"}
_lock = threading.Lock()
_app: Any = None


@dataclass(frozen=True)
class Rendered:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def _logged(event: Mapping[str, Any]) -> Rendered | None:
    """The journal's own copy of the response (a real WireMock's), when it has the body."""
    resp = event.get("response")
    if not isinstance(resp, Mapping) or not isinstance(resp.get("status"), int):
        return None
    if "bodyAsBase64" in resp:
        body = base64.b64decode(str(resp["bodyAsBase64"] or ""))
    elif isinstance(resp.get("body"), str):
        body = str(resp["body"]).encode("utf-8")
    else:
        return None
    headers = []
    for name, value in (resp.get("headers") or {}).items():
        for v in value if isinstance(value, list) else [value]:
            if str(name).lower() not in _SKIP:
                headers.append((str(name), str(v)))
    return Rendered(int(resp["status"]), headers, body)


def _parse(data: bytes) -> Rendered:
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("utf-8", "replace").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name and name.lower() not in _SKIP:
            headers.append((name, value.strip()))
    return Rendered(status, headers, body)


def render_response(event: Mapping[str, Any], root: Path | None, base_url: str = "") -> Rendered | None:
    """The response a journal entry (``/__admin/requests`` JSON) got; None for faults and proxies."""
    logged = _logged(event)
    if logged is not None:
        return logged
    mapping = event.get("stubMapping")
    request = event.get("request")
    if not isinstance(mapping, Mapping) or not isinstance(request, Mapping):
        return None
    response = mapping.get("response") or {}
    if response.get("fault") or response.get("proxyBaseUrl"):
        return None
    from ..stub._app import StubApp
    from ..stub._mapping import StubMapping
    from ..stub._request import Request

    global _app
    stub = StubMapping(dict(mapping))
    req = Request.from_json(dict(request))
    with _lock:
        if _app is None:
            _app = StubApp(None, journal_limit=0)
        _app.root = root
        parts = urlsplit(base_url or str(request.get("absoluteUrl") or ""))
        _app.host, _app.port = parts.hostname or "127.0.0.1", parts.port or 0
        reply = _app.render(stub, req, False)
    if reply.fault is not None:
        return None
    return _parse(reply.data + b"".join(reply.chunks))
