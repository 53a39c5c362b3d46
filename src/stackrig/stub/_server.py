"""The socket layer: an asyncio Protocol speaking HTTP/1.1 with keep-alive and pipelining.

Requests on one connection are answered strictly in order: while a slow reply (delay, proxy) is
pending, parsing of the connection's buffer pauses.  Static stubs are answered synchronously from
``data_received`` with pre-rendered bytes.
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import time
from collections.abc import Awaitable
from typing import Any

from ._admin import EmptyWithReason, handle_admin
from ._app import Reply, StubApp
from ._request import Request

__all__ = ["GARBAGE", "HttpProtocol", "serve_forever"]

# What WireMock (Jetty) writes for RANDOM_DATA_THEN_CLOSE: always the same bytes.
GARBAGE = b"lskdu018973t09sylgasjkfg1][]'./.sdlv"
_MAX_HEAD = 64 * 1024
_ADMIN = "/__admin"


def _error(status: int, reason: str, message: str) -> bytes:
    body = message.encode("utf-8")
    return (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain;charset=UTF-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode("latin-1") + body


def _admin_reply(status: int, payload: Any) -> bytes:
    reasons = {200: "OK", 201: "Created", 400: "Bad Request", 404: "Not Found", 422: "Unprocessable Entity"}
    head = f"HTTP/1.1 {status} {reasons.get(status, 'Status')}\r\n"
    if isinstance(payload, EmptyWithReason):
        head += f"X-Stackrig-Error: {payload}\r\n"
        payload = None
    if payload is None:
        body = b""
    else:
        body = json.dumps(payload, indent=2, ensure_ascii=False).encode("utf-8")
    if body:
        head += "Content-Type: application/json\r\n"
    head += f"Content-Length: {len(body)}\r\n\r\n"
    return head.encode("latin-1") + body


class _ChunkedBody:
    """Incremental decoder of a chunked request body (returns None until complete)."""

    @staticmethod
    def decode(buf: bytes, start: int) -> tuple[bytes, int] | None:
        pos = start
        parts: list[bytes] = []
        while True:
            eol = buf.find(b"\r\n", pos)
            if eol < 0:
                return None
            size_text = buf[pos:eol].split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise ValueError(f"bad chunk size {size_text[:20]!r}") from None
            pos = eol + 2
            if size == 0:
                # skip trailers up to the empty line
                while True:
                    eol = buf.find(b"\r\n", pos)
                    if eol < 0:
                        return None
                    if eol == pos:
                        return b"".join(parts), eol + 2
                    pos = eol + 2
            if len(buf) < pos + size + 2:
                return None
            parts.append(buf[pos : pos + size])
            pos += size + 2


class HttpProtocol(asyncio.Protocol):
    """One client connection."""

    __slots__ = (
        "_continue_sent",
        "_have",
        "_need",
        "_parts",
        "app",
        "buf",
        "busy",
        "client_ip",
        "closing",
        "transport",
    )

    def __init__(self, app: StubApp) -> None:
        self.app = app
        self.transport: asyncio.Transport | None = None
        self.buf = b""
        self.busy = False
        self.closing = False
        self.client_ip = "127.0.0.1"
        self._continue_sent = False
        # A large body arrives in many reads: collect them and join once (no quadratic copying).
        self._parts: list[bytes] = []
        self._have = 0
        self._need = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        if peer:
            self.client_ip = peer[0]
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass

    def connection_lost(self, exc: Exception | None) -> None:
        self.closing = True
        self.transport = None

    def data_received(self, data: bytes) -> None:
        if self._need:
            self._parts.append(data)
            self._have += len(data)
            if self._have < self._need:
                return
            self.buf = b"".join(self._parts)
            self._parts = []
            self._need = self._have = 0
        else:
            self.buf = self.buf + data if self.buf else data
        if not self.busy:
            self._process()

    def pause_writing(self) -> None:
        if self.transport is not None:
            self.transport.pause_reading()  # a client that does not read gets no more answers queued

    def resume_writing(self) -> None:
        if self.transport is not None:
            self.transport.resume_reading()

    def _process(self) -> None:
        buf = self.buf
        transport = self.transport
        while buf and not self.busy and transport is not None and not self.closing:
            if buf[:2] == b"\r\n":  # stray CRLFs between pipelined requests are allowed (RFC 9112 2.2)
                buf = buf.lstrip(b"\r\n")
                continue
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                if len(buf) > _MAX_HEAD:
                    self._fail(431, "Request Header Fields Too Large", "request head over 64 KiB")
                    return
                break
            lines = buf[:end].decode("latin-1").split("\r\n")
            parts = lines[0].split(" ")
            if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
                self._fail(400, "Bad Request", f"malformed request line {lines[0][:100]!r}")
                return
            method, target, version = parts
            if not target.isascii():  # raw UTF-8 in the target (clients should percent-encode it)
                target = target.encode("latin-1").decode("utf-8", "replace")
            headers: list[tuple[str, str]] = []
            length = 0
            chunked = False
            keep_alive = version == "HTTP/1.1"
            expect_continue = False
            for line in lines[1:]:
                name, _, value = line.partition(":")
                value = value.strip()
                headers.append((name, value))
                lname = name.lower()
                if lname == "content-length":
                    try:
                        length = int(value)
                    except ValueError:
                        self._fail(400, "Bad Request", f"bad Content-Length {value!r}")
                        return
                elif lname == "transfer-encoding":
                    chunked = "chunked" in value.lower()
                elif lname == "connection":
                    token = value.lower()
                    if "close" in token:
                        keep_alive = False
                    elif "keep-alive" in token:
                        keep_alive = True
                elif lname == "expect":
                    expect_continue = value.lower() == "100-continue"
            start = end + 4
            if chunked:
                try:
                    decoded = _ChunkedBody.decode(buf, start)
                except ValueError as exc:
                    self._fail(400, "Bad Request", str(exc))
                    return
                if decoded is None:
                    self._maybe_continue(expect_continue)
                    break
                body, consumed = decoded
            else:
                consumed = start + length
                if len(buf) < consumed:
                    self._maybe_continue(expect_continue)
                    if length > 65536:
                        self._parts, self._have, self._need = [buf], len(buf), consumed
                        buf = b""
                    break
                body = buf[start:consumed]
            buf = buf[consumed:]
            self.buf = buf
            self._continue_sent = False
            self._handle(method, target, headers, body, keep_alive)
            transport = self.transport
        self.buf = buf

    def _maybe_continue(self, expect: bool) -> None:
        if expect and not self._continue_sent and self.transport is not None:
            self._continue_sent = True
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def _fail(self, status: int, reason: str, message: str) -> None:
        if self.transport is not None:
            self.transport.write(_error(status, reason, message))
            self.transport.close()
        self.closing = True
        self.buf = b""

    def _handle(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes, keep_alive: bool) -> None:
        transport = self.transport
        assert transport is not None
        if target.startswith(_ADMIN) and (len(target) == 8 or target[8] in "/?"):
            status, payload = handle_admin(self.app, method, target, body)
            transport.write(_admin_reply(status, payload))
            if not keep_alive:
                self._close()
            if self.app.shutdown_requested:
                asyncio.get_running_loop().call_soon(_request_stop)
            return
        req = Request(method, target, headers, body, self.client_ip, time.time())
        try:
            reply = self.app.serve(req, method == "HEAD")
        except Exception as exc:  # noqa: BLE001 - a bug must not fail silently: answer 500 with the reason
            transport.write(_error(500, "Server Error", f"stackrig stub server error: {exc!r}"))
            self._close()
            return
        if isinstance(reply, bytes):
            transport.write(reply)
            if not keep_alive:
                self._close()
            return
        if isinstance(reply, Reply) and not reply.delay and reply.fault is None and not reply.chunks:
            transport.write(reply.data)
            if not keep_alive:
                self._close()
            return
        self.busy = True
        asyncio.ensure_future(self._slow(reply, keep_alive))

    async def _slow(self, pending: Reply | Awaitable[Reply], keep_alive: bool) -> None:
        try:
            reply = pending if isinstance(pending, Reply) else await pending
            if reply.delay > 0:
                await asyncio.sleep(reply.delay)
            transport = self.transport
            if transport is None:
                return
            if reply.fault is not None:
                self._fault(reply.fault, transport)
                return
            transport.write(reply.data)
            for chunk in reply.chunks:
                await asyncio.sleep(reply.chunk_interval)
                if self.transport is None:
                    return
                transport.write(chunk)
            if not keep_alive:
                self._close()
                return
        except Exception as exc:  # noqa: BLE001 - surfaced to the client rather than lost
            if self.transport is not None:
                self.transport.write(_error(500, "Server Error", f"stackrig stub server error: {exc!r}"))
                self._close()
            return
        finally:
            self.busy = False
        if self.buf and self.transport is not None:
            self._process()

    def _fault(self, fault: str, transport: asyncio.Transport) -> None:
        self.closing = True
        if fault == "CONNECTION_RESET_BY_PEER":
            sock = transport.get_extra_info("socket")
            if sock is not None:
                try:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                except OSError:
                    pass
            transport.abort()
        elif fault == "EMPTY_RESPONSE":
            transport.close()
        elif fault == "MALFORMED_RESPONSE_CHUNK":
            transport.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + GARBAGE)
            transport.close()
        else:  # RANDOM_DATA_THEN_CLOSE
            transport.write(GARBAGE)
            transport.close()

    def _close(self) -> None:
        self.closing = True
        if self.transport is not None:
            self.transport.close()


_stop_event: asyncio.Event | None = None


def _request_stop() -> None:
    if _stop_event is not None:
        _stop_event.set()


async def serve_forever(app: StubApp, host: str, port: int) -> None:
    """Serve until SIGTERM/SIGINT or ``POST /__admin/shutdown``; then stop recording and close."""
    import signal

    global _stop_event
    loop = asyncio.get_running_loop()
    _stop_event = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, _stop_event.set)
    server = await loop.create_server(lambda: HttpProtocol(app), host, port, reuse_address=True, backlog=1024)
    sockname = server.sockets[0].getsockname()
    app.host, app.port = sockname[0], sockname[1]
    try:
        await _stop_event.wait()
    finally:
        server.close()
        app.recorder.stop()
        await app.proxy.aclose()
