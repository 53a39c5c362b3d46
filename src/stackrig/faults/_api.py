"""The control API: Toxiproxy's HTTP routes, status codes and JSON bodies, over h11."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote

import h11

from ._collection import ProxyCollection
from ._errors import ApiProblem

__all__ = ["ApiServer", "VERSION"]

log = logging.getLogger("stackrig.faults")

VERSION = "2.12.0-stackrig"  # the Toxiproxy API version this server follows
_MAX_BODY = 1 << 20

Handler = Callable[[ProxyCollection, dict[str, str], object], Awaitable[tuple[int, Any]]]
_NO_BODY = object()


async def _index(c: ProxyCollection, p: dict[str, str], b: object) -> tuple[int, Any]:
    return 200, c.index()


async def _create(c: ProxyCollection, p: dict[str, str], b: object) -> tuple[int, Any]:
    return 201, await c.create(b)


async def _populate(c: ProxyCollection, p: dict[str, str], b: object) -> tuple[int, Any]:
    try:
        return 201, {"proxies": await c.populate(b)}
    except ApiProblem as problem:
        return problem.status, {**problem.body(), "proxies": []}


async def _show(c: ProxyCollection, p: dict[str, str], b: object) -> tuple[int, Any]:
    return 200, c.get(p["proxy"]).to_json()


async def _update(c: ProxyCollection, p: dict[str, str], b: object) -> tuple[int, Any]:
    return 200, await c.update(p["proxy"], b)


async def _delete(c: ProxyCollection, p: dict[str, str], b: object) -> tuple[int, Any]:
    await c.delete(p["proxy"])
    return 204, _NO_BODY


async def _toxic_index(c: ProxyCollection, p: dict[str, str], b: object) -> tuple[int, Any]:
    return 200, c.toxics(p["proxy"])


async def _toxic_create(c: ProxyCollection, p: dict[str, str], b: object) -> tuple[int, Any]:
    return 200, c.add_toxic(p["proxy"], b)


async def _toxic_show(c: ProxyCollection, p: dict[str, str], b: object) -> tuple[int, Any]:
    return 200, c.toxic(p["proxy"], p["toxic"])


async def _toxic_update(c: ProxyCollection, p: dict[str, str], b: object) -> tuple[int, Any]:
    return 200, c.update_toxic(p["proxy"], p["toxic"], b)


async def _toxic_delete(c: ProxyCollection, p: dict[str, str], b: object) -> tuple[int, Any]:
    c.remove_toxic(p["proxy"], p["toxic"])
    return 204, _NO_BODY


async def _reset(c: ProxyCollection, p: dict[str, str], b: object) -> tuple[int, Any]:
    await c.reset()
    return 204, _NO_BODY


async def _version(c: ProxyCollection, p: dict[str, str], b: object) -> tuple[int, Any]:
    return 200, {"version": VERSION}


_SEG = r"(?P<{}>[^/]+)"
_ROUTES: list[tuple[re.Pattern[str], dict[str, Handler]]] = [
    (re.compile(r"^/reset$"), {"POST": _reset}),
    (re.compile(r"^/version$"), {"GET": _version}),
    (re.compile(r"^/populate$"), {"POST": _populate}),
    (re.compile(r"^/proxies$"), {"GET": _index, "POST": _create}),
    (re.compile(rf"^/proxies/{_SEG.format('proxy')}$"),
     {"GET": _show, "POST": _update, "PATCH": _update, "DELETE": _delete}),
    (re.compile(rf"^/proxies/{_SEG.format('proxy')}/toxics$"), {"GET": _toxic_index, "POST": _toxic_create}),
    (re.compile(rf"^/proxies/{_SEG.format('proxy')}/toxics/{_SEG.format('toxic')}$"),
     {"GET": _toxic_show, "POST": _toxic_update, "PATCH": _toxic_update, "DELETE": _toxic_delete}),
]
_NEEDS_BODY = {_create, _populate, _update, _toxic_create, _toxic_update}


async def dispatch(collection: ProxyCollection, method: str, target: str, raw: bytes) -> tuple[int, Any]:
    """Route one request; returns (status, JSON-able body or _NO_BODY)."""
    path = target.split("?", 1)[0]
    for pattern, methods in _ROUTES:
        match = pattern.match(path)
        if match is None:
            continue
        handler = methods.get(method)
        if handler is None:
            return 405, {"error": f"method {method} not allowed on {path}; allowed: {', '.join(methods)}",
                         "status": 405}
        params = {k: unquote(v) for k, v in match.groupdict().items()}
        body: object = None
        if handler in _NEEDS_BODY:
            try:
                body = json.loads(raw or b"null")
            except ValueError as exc:
                return 400, {"error": f"bad request body: {exc}", "status": 400}
            if body is None and handler is not _update:
                return 400, {"error": "bad request body: EOF", "status": 400}
            if body is None:
                body = {}
        try:
            return await handler(collection, params, body)
        except ApiProblem as problem:
            return problem.status, problem.body()
    return 404, {"error": f"no route for {path}", "status": 404}


class ApiServer:
    """Serves the control API for one :class:`ProxyCollection` on 127.0.0.1."""

    def __init__(self, collection: ProxyCollection) -> None:
        self.collection = collection
        self._server: asyncio.Server | None = None
        self._lock = asyncio.Lock()  # one state change at a time, like Toxiproxy's mutexes
        self._clients: set[asyncio.StreamWriter] = set()

    async def start(self, host: str, port: int) -> int:
        self._server = await asyncio.start_server(self._serve, host, port, reuse_address=True)
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._clients):
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._clients.add(writer)
        conn = h11.Connection(h11.SERVER)
        try:
            while True:
                request, body = await self._read_request(conn, reader)
                if request is None:
                    return
                async with self._lock:
                    status, payload = await dispatch(self.collection, request.method.decode(),
                                                     request.target.decode(), body)
                if status >= 400:
                    log.info("api: %s %s -> %d %s", request.method.decode(), request.target.decode(), status,
                             payload.get("error") if isinstance(payload, dict) else "")
                data = b"" if payload is _NO_BODY else json.dumps(payload).encode() + b"\n"
                headers = [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
                writer.write(conn.send(h11.Response(status_code=status, headers=headers)))
                if data:
                    writer.write(conn.send(h11.Data(data=data)))
                writer.write(conn.send(h11.EndOfMessage()))
                await writer.drain()
                if conn.our_state is h11.MUST_CLOSE:
                    return
                conn.start_next_cycle()
        except (h11.RemoteProtocolError, ConnectionError, ValueError) as exc:
            log.debug("api: dropped a client: %s", exc)
        finally:
            self._clients.discard(writer)
            writer.close()

    async def _read_request(self, conn: h11.Connection,
                            reader: asyncio.StreamReader) -> tuple[h11.Request | None, bytes]:
        request: h11.Request | None = None
        body = bytearray()
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                chunk = await reader.read(65536)
                conn.receive_data(chunk)
                if not chunk and request is None:
                    return None, b""
                continue
            if isinstance(event, h11.Request):
                request = event
            elif isinstance(event, h11.Data):
                body += event.data
                if len(body) > _MAX_BODY:
                    raise ValueError("request body too large")
            elif isinstance(event, h11.EndOfMessage):
                return request, bytes(body)
            elif isinstance(event, h11.ConnectionClosed):
                return None, b""
