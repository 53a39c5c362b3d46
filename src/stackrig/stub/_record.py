"""Proxying (``proxyBaseUrl``) and record mode: pass requests to a real upstream and turn what
it answered into WireMock mapping files in ``<root>/mappings``."""

from __future__ import annotations

import base64
import json
import re
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._files import MAPPINGS_DIR
from ._mapping import StubMapping, reason_phrase

if TYPE_CHECKING:
    from ._app import Reply, StubApp
    from ._request import Request

__all__ = ["Recorder"]

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
_NOT_RECORDED = {
    "date",
    "server",
    "content-length",
    "transfer-encoding",
    "connection",
    "content-encoding",
    "keep-alive",
}
_PROXY_PRIORITY = 1


class Recorder:
    """Proxies requests and, while recording, remembers one stub per distinct request."""

    def __init__(self, app: StubApp) -> None:
        self.app = app
        self.status = "NeverStarted"
        self.target: str | None = None
        self._proxy_stub_id: str | None = None
        self._recorded: dict[tuple[str, str, bytes], dict[str, Any]] = {}
        self._client: Any = None

    # -- recording control ------------------------------------------------------------------------

    def start(self, target: str) -> None:
        if self.status == "Recording":
            self.stop()
        self.target = target.rstrip("/")
        proxy = StubMapping(
            {
                "priority": _PROXY_PRIORITY,
                "request": {"method": "ANY"},
                "response": {"proxyBaseUrl": self.target},
            }
        )
        self.app.store.add(proxy)
        self._proxy_stub_id = proxy.id
        self._recorded = {}
        self.status = "Recording"

    def stop(self) -> list[dict[str, Any]]:
        """Stop recording, add the recorded stubs to the server, write their files; return them."""
        if self.status != "Recording":
            return []
        self.status = "Stopped"
        if self._proxy_stub_id is not None:
            self.app.store.remove(self._proxy_stub_id)
            self._proxy_stub_id = None
        mappings = list(self._recorded.values())
        self._recorded = {}
        for mapping in mappings:
            stub = StubMapping(mapping)
            if self.app.store.get(stub.id) is None:
                self.app.store.add(stub)
        if self.app.root is not None:
            self._write(self.app.root / MAPPINGS_DIR, mappings)
        return mappings

    @staticmethod
    def _write(folder: Path, mappings: list[dict[str, Any]]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for mapping in mappings:
            request = mapping["request"]
            slug = re.sub(r"[^a-z0-9]+", "-", request.get("url", "").split("?")[0].lower()).strip("-") or "root"
            name = f"{request.get('method', 'any').lower()}-{slug[:60]}-{mapping['id'][:8]}.json"
            (folder / name).write_text(json.dumps(mapping, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    # -- proxying ------------------------------------------------------------------------------------

    def _http(self) -> Any:
        if self._client is None:
            import httpx

            self._client = httpx.AsyncClient(timeout=30.0, follow_redirects=False)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def proxy(self, stub: StubMapping, req: Request, head_only: bool) -> Reply:
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
            msg = f"stackrig stub: proxying {req.method} {url} to {r.proxy_base_url} failed: {exc!r}".encode()
            head = f"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nContent-Length: {len(msg)}\r\n\r\n"
            return Reply(head.encode() + msg)
        body = resp.content
        out_headers = [(n, v) for n, v in resp.headers.multi_items() if n.lower() not in _NOT_RECORDED]
        if self.status == "Recording" and stub.id == self._proxy_stub_id:
            self._remember(req, resp.status_code, out_headers, body)
        lines = [f"HTTP/1.1 {resp.status_code} {resp.reason_phrase or reason_phrase(resp.status_code)}"]
        lines += [f"{n}: {v}" for n, v in out_headers]
        lines.append(f"Content-Length: {len(body)}")
        head_bytes = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
        return Reply(head_bytes if head_only else head_bytes + body)

    def _remember(self, req: Request, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        key = (req.method, req.url, req.body)
        if key in self._recorded:
            return
        stub_id = str(uuid.uuid4())
        request: dict[str, Any] = {"url": req.url, "method": req.method}
        if req.body:
            if req.json is not None and req.json is not _not_json():
                request["bodyPatterns"] = [
                    {"equalToJson": req.text, "ignoreArrayOrder": True, "ignoreExtraElements": True}
                ]
            else:
                request["bodyPatterns"] = [{"equalTo": req.text}]
        response: dict[str, Any] = {"status": status}
        if body:
            try:
                response["body"] = body.decode("utf-8")
            except UnicodeDecodeError:
                response["base64Body"] = base64.b64encode(body).decode("ascii")
        if headers:
            merged: dict[str, Any] = {}
            for name, value in headers:
                if name in merged:
                    prev = merged[name]
                    merged[name] = (prev if isinstance(prev, list) else [prev]) + [value]
                else:
                    merged[name] = value
            response["headers"] = merged
        name = req.path.strip("/").replace("/", "_") or "root"
        self._recorded[key] = {
            "id": stub_id,
            "name": name,
            "request": request,
            "response": response,
            "persistent": True,
        }


def _not_json() -> Any:
    from ._request import NOT_JSON

    return NOT_JSON
