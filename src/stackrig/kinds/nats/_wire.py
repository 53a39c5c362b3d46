"""The NATS client protocol, as much of it as stackrig needs, on plain sockets.

* :class:`Parser` turns the server's bytes into operations (``INFO``, ``MSG``/``HMSG``, ``PING``,
  ``PONG``, ``+OK``, ``-ERR``);
* :class:`Wire` is a blocking connection for request/reply: the readiness probe, creating the
  declared streams, the per-test reset, ``rig.client(name, "jetstream")`` — no thread, no asyncio;
* :class:`Connection` (in `_connection`) adds a reader thread and reconnection: the taps'
  subscriptions and ``rig.publish``.

The protocol: https://docs.nats.io/reference/reference-protocols/nats-protocol
"""

from __future__ import annotations

import json
import secrets
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from ...errors import StackrigError

__all__ = ["Address", "Msg", "NatsError", "Parser", "Wire", "check_subject", "encode_headers", "parse_headers"]

CRLF = b"\r\n"
_MAX_LINE = 64 * 1024  # a control line longer than this is not NATS


class NatsError(StackrigError):
    """The server refused something (``-ERR``), or the connection broke."""


@dataclass(frozen=True)
class Address:
    """Where a server is and how to authenticate: from a ``nats://[user:password@|token@]host:port`` URL."""

    host: str
    port: int
    user: str | None = None
    password: str | None = None
    token: str | None = None

    @classmethod
    def parse(cls, url: str) -> Address:
        parts = urlsplit(url)
        if parts.scheme not in ("nats", "tls", "") or not parts.hostname or not parts.port:
            raise NatsError(f"not a NATS URL: {url!r} (expected nats://host:port)")
        user = unquote(parts.username) if parts.username is not None else None
        password = unquote(parts.password) if parts.password is not None else None
        if user is not None and password is None:
            return cls(parts.hostname, parts.port, token=user)
        return cls(parts.hostname, parts.port, user=user, password=password)

    def connect_options(self, name: str) -> dict[str, Any]:
        options: dict[str, Any] = {"verbose": False, "pedantic": False, "headers": True, "no_responders": True,
                                   "protocol": 1, "lang": "python-stackrig", "version": "1", "name": name}
        if self.token is not None:
            options["auth_token"] = self.token
        elif self.user is not None:
            options.update(user=self.user, **{"pass": self.password or ""})
        return options

    def __str__(self) -> str:
        return f"nats://{self.host}:{self.port}"


@dataclass(slots=True)
class Msg:
    """One ``MSG``/``HMSG`` from the server."""

    subject: str
    sid: int
    reply: str | None
    data: bytes
    headers: dict[str, str] | None = None
    status: str | None = None  # "503" (no responders), "100" (heartbeat / flow control), ...
    description: str | None = None


def parse_headers(raw: bytes) -> tuple[str | None, str | None, dict[str, str]]:
    """``NATS/1.0[ status[ description]]`` then ``Key: Value`` lines: (status, description, headers).
    A key given twice keeps both values, joined with ``, ``."""
    text = raw.decode("utf-8", errors="replace")
    lines = text.split("\r\n")
    first = lines[0].split(" ", 2)
    status = first[1] if len(first) > 1 and first[1] else None
    description = first[2] if len(first) > 2 and first[2] else None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        key, _, value = line.partition(":")
        key, value = key.strip(), value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return status, description, headers


def encode_headers(headers: Mapping[str, str]) -> bytes:
    out = ["NATS/1.0\r\n"]
    for key, value in headers.items():
        key, value = str(key), str(value)
        if not key or any(c in key for c in ":\r\n ") or any(c in value for c in "\r\n"):
            raise NatsError(f"header {key!r}: {value!r} cannot be sent in NATS: a key has no ':', spaces or line "
                            "breaks, a value no line breaks")
        out.append(f"{key}: {value}\r\n")
    out.append("\r\n")
    return "".join(out).encode()


def check_subject(subject: str, *, wildcards: bool, what: str) -> None:
    """Raise unless `subject` is a valid NATS subject (with wildcards: a valid subscription)."""
    problem = None
    if not subject:
        problem = "it is empty"
    elif any(c.isspace() for c in subject):
        problem = "it contains whitespace"
    else:
        tokens = subject.split(".")
        if any(t == "" for t in tokens):
            problem = "it has an empty token (a leading, trailing or doubled '.')"
        elif not wildcards and any(t in ("*", ">") for t in tokens):
            problem = "wildcards ('*', '>') are only for subscriptions, not for a subject to publish to"
        elif wildcards and any(t == ">" for t in tokens[:-1]):
            problem = "'>' may only be the last token"
        elif wildcards and any(len(t) > 1 and ("*" in t or ">" in t) for t in tokens):
            problem = "a wildcard must be a whole token ('orders.*', not 'orders.a*')"
    if problem:
        raise NatsError(f"{what} {subject!r} is not a valid NATS subject: {problem}",
                        hint="tokens separated by '.', '*' matches one token, '>' the rest (e.g. 'orders.>')")


class Parser:
    """Incremental: :meth:`feed` the bytes read, get back the complete operations in them."""

    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[tuple[str, Any]]:
        buf = self._buf
        buf += data
        ops: list[tuple[str, Any]] = []
        pos = 0
        size = len(buf)
        while pos < size:
            end = buf.find(CRLF, pos)
            if end < 0:
                if size - pos > _MAX_LINE:
                    raise NatsError("protocol error: a control line longer than 64 KiB")
                break
            head = buf[pos:pos + 4]
            if head == b"MSG ":
                parts = bytes(buf[pos + 4:end]).split()
                n = int(parts[-1])
                start = end + 2
                if size < start + n + 2:
                    break
                reply = parts[2].decode() if len(parts) == 4 else None
                ops.append(("MSG", Msg(parts[0].decode(), int(parts[1]), reply, bytes(buf[start:start + n]))))
                pos = start + n + 2
            elif head == b"HMSG":
                parts = bytes(buf[pos + 5:end]).split()
                hlen, total = int(parts[-2]), int(parts[-1])
                start = end + 2
                if size < start + total + 2:
                    break
                reply = parts[2].decode() if len(parts) == 5 else None
                status, description, headers = parse_headers(bytes(buf[start:start + hlen]))
                ops.append(("MSG", Msg(parts[0].decode(), int(parts[1]), reply, bytes(buf[start + hlen:start + total]),
                                       headers, status, description)))
                pos = start + total + 2
            else:
                line = bytes(buf[pos:end])
                pos = end + 2
                word = line[:4].upper()
                if word == b"PING":
                    ops.append(("PING", None))
                elif word == b"PONG":
                    ops.append(("PONG", None))
                elif word == b"+OK":
                    continue
                elif word == b"-ERR":
                    ops.append(("ERR", line[4:].strip().strip(b"'").decode(errors="replace")))
                elif word == b"INFO":
                    ops.append(("INFO", json.loads(line[5:])))
                elif line:
                    raise NatsError(f"protocol error: unexpected {line[:80]!r}")
        del buf[:pos]
        return ops


def _pub(subject: str, reply: str | None, data: bytes, headers: Mapping[str, str] | None) -> bytes:
    r = f" {reply}" if reply else ""
    if headers:
        h = encode_headers(headers)
        return b"".join([f"HPUB {subject}{r} {len(h)} {len(h) + len(data)}\r\n".encode(), h, data, CRLF])
    return b"".join([f"PUB {subject}{r} {len(data)}\r\n".encode(), data, CRLF])


def _handshake(sock: socket.socket, parser: Parser, address: Address, name: str,
               pending: list[tuple[str, Any]]) -> dict[str, Any]:
    """INFO, CONNECT, PING -> PONG on a fresh socket; returns the server's INFO.  Operations that
    arrive after the PONG (none, normally) are left in `pending`."""
    info: dict[str, Any] | None = None
    sent = False
    while True:
        data = sock.recv(65536)
        if not data:
            raise NatsError(f"{address} closed the connection during the handshake")
        for i, (op, arg) in enumerate(ops := parser.feed(data)):
            if op == "INFO" and info is None:
                info = arg
                sock.sendall(b"CONNECT " + json.dumps(address.connect_options(name)).encode() + b"\r\nPING\r\n")
                sent = True
            elif op == "ERR":
                raise NatsError(f"{address} refused the connection: {arg}",
                                hint="the URL's user and password (or token) must match the server's")
            elif op == "PING":
                sock.sendall(b"PONG\r\n")
            elif op == "PONG" and sent:
                pending.extend(ops[i + 1:])
                assert info is not None
                return info


class Wire:
    """A blocking connection for requests and replies (one caller at a time).

    Every call has a timeout; a broken connection is opened again on the next call."""

    def __init__(self, url: str, *, timeout: float = 5.0, name: str = "stackrig") -> None:
        self.address = Address.parse(url)
        self.timeout = timeout
        self.name = name
        self.info: dict[str, Any] = {}
        self._sock: socket.socket | None = None
        self._parser = Parser()
        self._pending: list[tuple[str, Any]] = []
        self._inbox = ""
        self._seq = 0

    def connect(self) -> Wire:
        self.close()
        sock = socket.create_connection((self.address.host, self.address.port), timeout=self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._parser = Parser()
        self._pending = []
        try:
            self.info = _handshake(sock, self._parser, self.address, self.name, self._pending)
            self._inbox = f"_INBOX.stackrig.{secrets.token_hex(8)}"
            sock.sendall(f"SUB {self._inbox}.* 1\r\n".encode())
        except BaseException:
            sock.close()
            raise
        self._sock = sock
        return self

    @property
    def connected(self) -> bool:
        return self._sock is not None

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None

    def _ops(self, deadline: float) -> list[tuple[str, Any]]:
        if self._pending:
            ops, self._pending = self._pending, []
            return ops
        assert self._sock is not None
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        self._sock.settimeout(left)
        data = self._sock.recv(65536)
        if not data:
            raise ConnectionResetError(f"{self.address} closed the connection")
        return self._parser.feed(data)

    def request(self, subject: str, payload: bytes | str | Mapping[str, Any] = b"", *,
                headers: Mapping[str, str] | None = None, timeout: float | None = None) -> Msg:
        """Publish `payload` on `subject` with a reply subject and return the first reply (a reply
        with status 503 means no one subscribes to `subject`).  Connects when not connected; retries
        once on a connection that broke since its last use."""
        if isinstance(payload, Mapping):
            payload = json.dumps(payload)
        data = payload.encode() if isinstance(payload, str) else payload
        for attempt in (1, 2):
            fresh = self._sock is None
            if fresh:
                self.connect()
            try:
                return self._request(subject, data, headers, timeout if timeout is not None else self.timeout)
            except OSError as exc:  # the connection broke (a server restarted since): once more, afresh
                self.close()
                if isinstance(exc, TimeoutError) or fresh or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _request(self, subject: str, data: bytes, headers: Mapping[str, str] | None, timeout: float) -> Msg:
        assert self._sock is not None
        self._seq += 1
        reply = f"{self._inbox}.{self._seq}"
        self._sock.sendall(_pub(subject, reply, data, headers))
        deadline = time.monotonic() + timeout
        while True:
            try:
                ops = self._ops(deadline)
            except TimeoutError:
                raise TimeoutError(f"no reply from {self.address} to {subject} within {timeout:g} s") from None
            for i, (op, arg) in enumerate(ops):
                if op == "MSG" and arg.subject == reply:
                    self._pending = ops[i + 1:]
                    return arg  # type: ignore[no-any-return]
                if op == "PING":
                    self._sock.sendall(b"PONG\r\n")
                elif op == "ERR":
                    self._pending = ops[i + 1:]
                    raise NatsError(f"{self.address} answered {subject}: -ERR '{arg}'")

    def json(self, subject: str, payload: bytes | str | Mapping[str, Any] = b"", *,
             timeout: float | None = None) -> dict[str, Any]:
        """A JetStream API request: the decoded JSON reply (raising on "no responders")."""
        msg = self.request(subject, payload, timeout=timeout)
        if msg.status == "503":
            raise NatsError(f"{self.address}: no responders on {subject} (is JetStream enabled?)")
        try:
            value = json.loads(msg.data)
        except ValueError:
            raise NatsError(f"{self.address}: {subject} answered {msg.data[:200]!r}, not JSON") from None
        if not isinstance(value, dict):
            raise NatsError(f"{self.address}: {subject} answered {msg.data[:200]!r}, not a JSON object")
        return value

    def __enter__(self) -> Wire:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
