"""stackrig's control helper inside the RabbitMQ node, and the client the test process uses.

The helper is an Erlang module (the source below), compiled once per Erlang/RabbitMQ version into
the cache with ``erlc`` and loaded into every node stackrig starts (``-pa``, started by ``-eval``
before ``rabbit boot``).  It answers, on a port stackrig allocated on 127.0.0.1 and only to
requests carrying the run's secret token, what AMQP cannot: list a vhost's queues, exchanges and
bindings (the baseline), put a vhost back to it in one round trip, create a vhost for a
pytest-xdist worker, and push topology changes (queues, exchanges, bindings created or deleted)
as they happen, so a per-test reset knows without asking whether a test changed anything.
The management plugin could list queues too, but it adds boot time (cowboy, the agent: ~0.2–0.5 s
here), an HTTP round trip per call, and cannot push changes; the helper costs one module load.

The source is kept here (not in a ``.erl`` file) so that it ships in wheels without package-data
configuration.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import socket
import struct
import subprocess
import threading
from pathlib import Path
from typing import Any

from ..._paths import cache_dir
from ...errors import ServiceError, StackrigError
from ...supervisor import MARKER_ENV
from ._helper_erl import ERLANG_SOURCE

__all__ = ["ERLANG_SOURCE", "HELPER_VERSION", "ControlClient", "ControlError", "compile_helper", "new_token",
           "recv_frame"]

HELPER_VERSION = "1"



class ControlError(StackrigError):
    """The helper refused or failed a request (its Erlang error is in the message)."""


def _key(erts: Path, otp: str) -> str:
    h = hashlib.sha256()
    for part in (HELPER_VERSION, ERLANG_SOURCE, str(erts), otp):
        h.update(part.encode() + b"\0")
    return h.hexdigest()[:16]


def compile_helper(root: Path, erts: Path, otp: str, *, service: str, run_id: str) -> Path:
    """The folder holding ``stackrig_rabbit.beam`` for this Erlang, compiled once (``erlc``, ~1 s)."""
    from ._cache import locked, scratch

    folder = cache_dir() / "rabbitmq" / f"helper-{_key(erts, otp)}"
    beam = folder / "stackrig_rabbit.beam"
    if beam.exists():
        return folder
    with locked(folder.with_suffix(".lock")):
        if beam.exists():
            return folder
        work = scratch("helper")
        try:
            src = work / "stackrig_rabbit.erl"
            src.write_text(ERLANG_SOURCE)
            erlc = root / "bin" / "erlc"
            if not erlc.exists():
                erlc = erts / "bin" / "erlc"
            env = {**os.environ, MARKER_ENV: run_id}
            try:
                done = subprocess.run([str(erlc), "-o", str(work), str(src)], capture_output=True, text=True,
                                      env=env, cwd=str(work), timeout=120)
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise ServiceError(f"service '{service}': compiling stackrig's RabbitMQ helper with {erlc} "
                                   f"failed: {exc}", service=service,
                                   hint="erlc comes with Erlang (Debian: erlang-dev / erlang-base)") from None
            if done.returncode != 0 or not (work / "stackrig_rabbit.beam").exists():
                raise ServiceError(f"service '{service}': compiling stackrig's RabbitMQ helper with {erlc} failed "
                                   f"(exit code {done.returncode})", service=service,
                                   log_tail=(done.stdout + done.stderr)[-3000:])
            tmp = folder.with_name(folder.name + f".{os.getpid()}.tmp")
            tmp.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(work / "stackrig_rabbit.beam", tmp / "stackrig_rabbit.beam")
            if folder.exists():
                shutil.rmtree(folder)
            tmp.rename(folder)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return folder


def _send(sock: socket.socket, payload: dict[str, Any]) -> None:
    data = json.dumps(payload, separators=(",", ":")).encode()
    sock.sendall(struct.pack(">I", len(data)) + data)


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    chunks = []
    while n:
        chunk = sock.recv(n)
        if not chunk:
            raise ConnectionError("the RabbitMQ node closed stackrig's control connection")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def recv_frame(sock: socket.socket) -> dict[str, Any]:
    (size,) = struct.unpack(">I", _recv_exact(sock, 4))
    reply = json.loads(_recv_exact(sock, size))
    if not isinstance(reply, dict):
        raise ConnectionError(f"unexpected reply from stackrig's RabbitMQ helper: {reply!r}")
    return reply


class ControlClient:
    """Requests to the helper in a node (one connection, reopened when it broke)."""

    def __init__(self, port: int, token: str, *, service: str, host: str = "127.0.0.1",
                 timeout: float = 30.0) -> None:
        self.host = host
        self.port = port
        self.token = token
        self.service = service
        self.timeout = timeout
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()

    def connect(self, timeout: float | None = None) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout=timeout or self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def call(self, op: str, **fields: Any) -> dict[str, Any]:
        request = {"op": op, "token": self.token, **fields}
        with self._lock:
            for attempt in (1, 2):
                try:
                    if self._sock is None:
                        self._sock = self.connect()
                    _send(self._sock, request)
                    reply = recv_frame(self._sock)
                    break
                except OSError as exc:
                    self._drop()
                    if attempt == 2:
                        raise ControlError(
                            f"service '{self.service}': cannot reach stackrig's helper in the RabbitMQ node on "
                            f"{self.host}:{self.port}: {exc}",
                            hint="is the broker running? (a test may have stopped it: rig[...].start())") from exc
        if not reply.get("ok"):
            raise ControlError(f"service '{self.service}': the RabbitMQ node could not {op}: "
                               f"{reply.get('error', reply)}")
        return reply

    def watch(self, vhost: str, timeout: float = 10.0) -> socket.socket:
        """A connection on which the node pushes topology changes of `vhost` (see `recv_frame`)."""
        sock = self.connect(timeout)
        try:
            _send(sock, {"op": "watch", "vhost": vhost, "token": self.token})
            reply = recv_frame(sock)
        except BaseException:
            sock.close()
            raise
        if not reply.get("ok"):
            sock.close()
            raise ControlError(f"service '{self.service}': the RabbitMQ node refused to watch vhost {vhost!r}: "
                               f"{reply.get('error', reply)}")
        sock.settimeout(None)
        return sock

    def _drop(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass
            self._sock = None

    def close(self) -> None:
        with self._lock:
            self._drop()


def new_token() -> str:
    return base64.urlsafe_b64encode(os.urandom(18)).decode()
