"""Proxying (``proxyBaseUrl``): pass a request to the real upstream and relay its answer.

Each proxied exchange is journaled with the upstream's response, and handed to the recorder,
which keeps it while a recording is running.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._journal import UpstreamResponse
from ._mapping import StubMapping, reason_phrase

if TYPE_CHECKING:
    from ._app import Reply, StubApp
    from ._request import Request

__all__ = ["Proxy"]

_HOP_BY_HOP = {
    "host",
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "content-length",
    "accept-encoding",
}
# Not relayed nor recorded: framing the server redoes, and headers that change on every answer.
_NOT_RELAYED = {
    "date",
    "server",
    "content-length",
    "transfer-encoding",
    "connection",
    "content-encoding",
    "keep-alive",
}


class Proxy:
    """The HTTP client of one server, shared by every proxy stub."""

    def __init__(self, app: StubApp) -> None:
        self.app = app
        self._client: Any = None

    def _http(self) -> Any:
        if self._client is None:
            import httpx

            self._client = httpx.AsyncClient(timeout=30.0, follow_redirects=False)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def forward(self, stub: StubMapping, req: Request, head_only: bool) -> Reply:
        from ._app import Reply

        r = stub.response
        assert r.proxy_base_url is not None
        url = req.url
        if r.proxy_prefix_to_remove and url.startswith(r.proxy_prefix_to_remove):
            url = url[len(r.proxy_prefix_to_remove) :] or "/"
        headers = [(n, v) for n, v in req.headers if n.lower() not in _HOP_BY_HOP]
        headers.extend(r.proxy_extra_headers)
        try:
            resp = await self._http().request(req.method, r.proxy_base_url + url, headers=headers, content=req.body)
        except Exception as exc:  # noqa: BLE001 - any upstream failure becomes a 502 the client can read
            self.app.journal.record(req, stub.id, 502)
            msg = f"stackrig stub: proxying {req.method} {url} to {r.proxy_base_url} failed: {exc!r}".encode()
            head = f"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nContent-Length: {len(msg)}\r\n\r\n"
            return Reply(head.encode() + msg)
        body = resp.content
        raw_headers = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in resp.headers.raw]  # spelling kept
        out_headers = [(n, v) for n, v in raw_headers if n.lower() not in _NOT_RELAYED]
        upstream = UpstreamResponse(resp.status_code, out_headers, body)
        seq = self.app.journal.record(req, stub.id, resp.status_code, upstream)
        self.app.recorder.capture(seq, req, upstream)
        lines = [f"HTTP/1.1 {resp.status_code} {resp.reason_phrase or reason_phrase(resp.status_code)}"]
        lines += [f"{n}: {v}" for n, v in out_headers]
        lines.append(f"Content-Length: {len(body)}")
        head_bytes = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
        return Reply(head_bytes if head_only else head_bytes + body)
