"""A NATS connection with a reader thread that reconnects: the taps' subscriptions and ``rig.publish``."""

from __future__ import annotations

import secrets
import socket
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from ._wire import Address, Msg, NatsError, Parser, _handshake, _pub, encode_headers

__all__ = ["Connection"]


class Connection:
    """A connection with a reader thread: subscriptions whose messages go to handlers (on that
    thread), publishes, flushes, requests; it reconnects (and subscribes again) when the server
    goes away and comes back within `reconnect_window` seconds.

    `on_event(kind, detail)` hears ``"disconnected"``, ``"reconnected"``, ``"lost"`` (the window
    passed: the connection is closed) and ``"error"`` (a ``-ERR`` nothing waited for)."""

    def __init__(self, url: str, *, name: str, timeout: float = 5.0, reconnect_window: float = 30.0,
                 on_event: Callable[[str, str], None] | None = None) -> None:
        self.address = Address.parse(url)
        self.name = name
        self.timeout = timeout
        self.reconnect_window = reconnect_window
        self.on_event = on_event
        self.info: dict[str, Any] = {}
        self._sock: socket.socket | None = None
        self._write = threading.Lock()
        self._state = threading.Condition()
        self._subs: dict[int, tuple[str, Callable[[Msg], None]]] = {}
        self._sid = 1  # 1: the requests' inbox
        self._pongs: list[list[Any]] = []  # waiters of PING: [event, error]
        self._replies: dict[str, list[Any]] = {}  # reply subject -> [event, msg]
        self._inbox = f"_INBOX.stackrig.{secrets.token_hex(8)}"
        self._req = 0
        self._closed = False
        self._lost: str | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------
    def _open(self) -> tuple[socket.socket, Parser, list[tuple[str, Any]]]:
        sock = socket.create_connection((self.address.host, self.address.port), timeout=self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        parser = Parser()
        pending: list[tuple[str, Any]] = []
        try:
            self.info = _handshake(sock, parser, self.address, self.name, pending)
            lines = [f"SUB {self._inbox}.* 1\r\n"]
            lines += [f"SUB {subject} {sid}\r\n" for sid, (subject, _) in list(self._subs.items())]
            sock.sendall("".join(lines).encode())
            sock.settimeout(None)
        except BaseException:
            sock.close()
            raise
        return sock, parser, pending

    def connect(self) -> Connection:
        sock, parser, pending = self._open()
        self._sock = sock
        self._thread = threading.Thread(target=self._read, args=(sock, parser, pending), daemon=True,
                                        name=f"stackrig-nats-{self.name}")
        self._thread.start()
        return self

    def close(self) -> None:
        with self._state:
            if self._closed:
                return
            self._closed = True
            sock, self._sock = self._sock, None
            self._wake_all("the connection was closed")
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5)

    @property
    def closed(self) -> bool:
        return self._closed

    # -- the reader thread ------------------------------------------------------------------
    def _read(self, sock: socket.socket, parser: Parser, pending: list[tuple[str, Any]]) -> None:
        ops = pending
        while True:
            try:
                for op, arg in ops:
                    self._dispatch(op, arg)
                data = sock.recv(262144)
                if not data:
                    raise ConnectionResetError("the server closed the connection")
                ops = parser.feed(data)
            except (OSError, NatsError) as exc:
                if self._closed:
                    return
                reconnected = self._reconnect(str(exc))
                if reconnected is None:
                    return
                sock, parser, ops = reconnected

    def _dispatch(self, op: str, arg: Any) -> None:
        if op == "MSG":
            msg: Msg = arg
            if msg.sid == 1:
                with self._state:
                    waiter = self._replies.pop(msg.subject, None)
                    if waiter is not None:
                        waiter[1] = msg
                        waiter[0].set()
                return
            sub = self._subs.get(msg.sid)
            if sub is not None:
                sub[1](msg)
        elif op == "PING":
            self._send(b"PONG\r\n")
        elif op == "PONG":
            with self._state:
                if self._pongs:
                    waiter = self._pongs.pop(0)
                    waiter[0].set()
        elif op == "ERR":
            with self._state:
                waiter = self._pongs[0] if self._pongs else None
                if waiter is not None and waiter[1] is None:
                    waiter[1] = arg  # the flush in progress raises it
                    return
            self._tell("error", arg)

    def _reconnect(self, why: str) -> tuple[socket.socket, Parser, list[tuple[str, Any]]] | None:
        with self._state:
            self._sock = None
            self._wake_all(f"the connection to {self.address} broke: {why}")
        self._tell("disconnected", why)
        deadline = time.monotonic() + self.reconnect_window
        delay = 0.02
        last = why
        while not self._closed and time.monotonic() < deadline:
            try:
                sock, parser, pending = self._open()
            except NatsError as exc:  # refused (credentials): trying again will not help
                last = str(exc)
                break
            except OSError as exc:
                last = str(exc)
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
                continue
            with self._state:
                if self._closed:
                    sock.close()
                    return None
                self._sock = sock
            self._tell("reconnected", str(self.address))
            return sock, parser, pending
        if not self._closed:
            self._lost = (f"the connection to {self.address} broke ({why}) and could not be opened again within "
                          f"{self.reconnect_window:g} s: {last}")
            self._closed = True
            self._tell("lost", self._lost)
        return None

    def _wake_all(self, why: str) -> None:
        for waiter in self._pongs:
            waiter[1] = waiter[1] or why
            waiter[0].set()
        self._pongs.clear()
        for waiter in self._replies.values():
            waiter[0].set()
        self._replies.clear()

    def _tell(self, kind: str, detail: str) -> None:
        if self.on_event is not None:
            self.on_event(kind, detail)

    # -- the caller's side -----------------------------------------------------------------
    def _check(self) -> None:
        if self._lost:
            raise NatsError(self._lost)
        if self._closed:
            raise NatsError("the connection was closed")

    def _send(self, data: bytes) -> None:
        with self._write:
            sock = self._sock
            if sock is None:
                self._check()
                raise NatsError(f"not connected to {self.address} (reconnecting)")
            sock.sendall(data)

    def subscribe(self, subject: str, handler: Callable[[Msg], None]) -> int:
        with self._state:
            self._check()
            self._sid += 1
            sid = self._sid
            self._subs[sid] = (subject, handler)
        try:
            self._send(f"SUB {subject} {sid}\r\n".encode())
        except BaseException:
            with self._state:
                self._subs.pop(sid, None)
            raise
        return sid

    def unsubscribe(self, sid: int) -> None:
        with self._state:
            if self._subs.pop(sid, None) is None or self._closed:
                return
        try:
            self._send(f"UNSUB {sid}\r\n".encode())
        except (OSError, NatsError):
            pass  # not connected: the subscription is gone with the connection (and not made again)

    def publish(self, subject: str, data: bytes, headers: Mapping[str, str] | None = None,
                reply: str | None = None) -> None:
        self._check()
        limit = self.info.get("max_payload")
        size = len(data) + (len(encode_headers(headers)) if headers else 0)
        if isinstance(limit, int) and size > limit:
            raise NatsError(f"a message of {size} bytes (with its headers) is larger than the server's "
                            f"max_payload ({limit} bytes)",
                            hint="send less, or raise `max_payload` in the service's table")
        self._send(_pub(subject, reply, data, headers))

    def flush(self, timeout: float | None = None) -> None:
        """PING and wait for the PONG: everything sent before was processed by the server.
        A ``-ERR`` that arrives meanwhile is raised here."""
        waiter: list[Any] = [threading.Event(), None]
        with self._state:
            self._check()
            self._pongs.append(waiter)
        self._send(b"PING\r\n")
        limit = timeout if timeout is not None else self.timeout
        if not waiter[0].wait(limit):
            with self._state:
                if waiter in self._pongs:
                    self._pongs.remove(waiter)
            raise NatsError(f"{self.address} did not answer a PING within {limit:g} s")
        if waiter[1] is not None:
            raise NatsError(f"{self.address}: {waiter[1]}")

    def request(self, subject: str, data: bytes, headers: Mapping[str, str] | None = None,
                timeout: float | None = None) -> Msg:
        with self._state:
            self._check()
            self._req += 1
            reply = f"{self._inbox}.{self._req}"
            waiter: list[Any] = [threading.Event(), None]
            self._replies[reply] = waiter
        try:
            self.publish(subject, data, headers, reply)
        except BaseException:
            with self._state:
                self._replies.pop(reply, None)
            raise
        limit = timeout if timeout is not None else self.timeout
        if not waiter[0].wait(limit):
            with self._state:
                self._replies.pop(reply, None)
            raise NatsError(f"no reply from {self.address} to {subject} within {limit:g} s")
        if waiter[1] is None:
            self._check()
            raise NatsError(f"the connection to {self.address} broke while waiting for a reply to {subject}")
        msg: Msg = waiter[1]
        return msg
