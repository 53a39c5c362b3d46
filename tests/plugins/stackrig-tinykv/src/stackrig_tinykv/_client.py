"""What `rig` hands tests for a tinykv service, its per-test reset and its pytest-xdist slice."""

from __future__ import annotations

import socket
from io import BufferedRWPair
from urllib.parse import urlsplit

from stackrig.config import ServiceSpec
from stackrig.services import Endpoint, Slice, TestReset

__all__ = ["KvClient", "TinyKvError", "connect", "kv_slice", "make_reset"]


class TinyKvError(Exception):
    """The server answered ERR."""


class KvClient:
    """get/set/keys/flush in the namespace of a ``tinykv://host:port/<namespace>`` URL."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        parts = urlsplit(url)
        self.address = (parts.hostname or "127.0.0.1", parts.port or 7777)
        self.namespace = parts.path.strip("/")
        self.timeout = timeout
        self._sock: socket.socket | None = None
        self._file: BufferedRWPair | None = None

    def ping(self) -> bool:
        return self._call("PING") == "PONG"

    def set(self, key: str, value: str) -> None:
        if "\n" in value or "\r" in value:
            raise ValueError("a tinykv value is one line")
        self._call("SET", self.namespace, _word(key), value)

    def get(self, key: str) -> str | None:
        reply = self._call("GET", self.namespace, _word(key))
        return reply.removeprefix("VALUE ") if reply.startswith("VALUE ") else None

    def keys(self) -> list[str]:
        return self._call("KEYS", self.namespace).split()[1:]

    def flush(self) -> int:
        """Empty the namespace; the number of keys removed."""
        return int(self._call("FLUSH", self.namespace).split()[1])

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        if self._sock is not None:
            self._sock.close()
        self._sock = self._file = None

    def __enter__(self) -> KvClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, *words: str) -> str:
        request = " ".join(words).encode() + b"\n"
        try:
            reply = self._roundtrip(request)
        except OSError:  # the server restarted since (`rig["kv"].restart()`): reconnect, once
            self.close()
            reply = self._roundtrip(request)
        if reply.startswith("ERR "):
            raise TinyKvError(reply[4:])
        return reply

    def _roundtrip(self, request: bytes) -> str:
        if self._file is None:
            self._sock = socket.create_connection(self.address, timeout=self.timeout)
            self._file = self._sock.makefile("rwb")
        self._file.write(request)
        self._file.flush()
        reply = self._file.readline()
        if not reply:
            raise ConnectionResetError("tinykv closed the connection")
        return reply.decode().rstrip("\n")


def _word(key: str) -> str:
    if not key or key.split() != [key]:
        raise ValueError(f"a tinykv key is one word, not {key!r}")
    return key


def connect(endpoint: Endpoint) -> KvClient:
    """The "kv" capability (`rig.client("kv")`): a client on the test's back door (never through the
    fault proxy), in the test's namespace — the worker's own under pytest-xdist."""
    return KvClient(endpoint.direct_url)


class _Flush(TestReset):
    """After each test, the test's namespace is emptied (other workers' namespaces are untouched)."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint

    def after(self, test_id: str) -> None:
        if not self.endpoint.running:  # the test stopped it: it comes back empty anyway
            return
        with KvClient(self.endpoint.direct_url) as kv:
            kv.flush()


def make_reset(spec: ServiceSpec, endpoint: Endpoint) -> TestReset:
    return _Flush(endpoint)


def kv_slice(endpoint: Endpoint, worker_id: str, index: int) -> Slice:
    """Worker `gwN` gets namespace `gwN` on the one server the xdist controller runs."""
    base = endpoint.direct_url.rsplit("/", 1)[0]
    return Slice(url=f"{base}/{worker_id}", attributes={"namespace": worker_id})
