"""The control channel of a running stack: stop, start or restart one service from anywhere.

The process that owns a run (a test session, `stackrig up`, `stackrig run`) serves a Unix
socket; any process that knows the run record — a test attached to `stackrig up -d`, say —
sends one JSON line and reads one JSON line back.  An error crosses the channel as a payload
(:meth:`~stackrig.errors.StackrigError.to_payload`) and is raised on the caller's side as the
same class with the same fields.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import StackNotRunning, StackrigError, error_from_payload

__all__ = ["ControlServer", "control_call"]

Handler = Callable[[dict[str, Any]], dict[str, Any]]


class ControlServer:
    def __init__(self, path: Path, handler: Handler) -> None:
        self.path = path
        self.handler = handler
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            path.unlink()
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.bind(str(path))
        os.chmod(path, 0o600)
        self._sock.listen(8)
        self._closed = False
        self._thread = threading.Thread(target=self._serve, name="stackrig-control", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rwb") as f:
            try:
                request = json.loads(f.readline())
                reply = self.handler(request)
            except StackrigError as exc:  # crosses the channel with its class and fields
                reply = {"ok": False, "error": exc.to_payload()}
            except Exception as exc:  # noqa: BLE001 - reported to the caller
                reply = {"ok": False, "error": StackrigError(f"{type(exc).__name__}: {exc}").to_payload()}
            f.write(json.dumps(reply).encode() + b"\n")
            f.flush()

    def close(self) -> None:
        self._closed = True
        try:
            self._sock.close()
        finally:
            try:
                self.path.unlink()
            except OSError:
                pass


def control_call(path: str | Path, request: dict[str, Any], timeout: float = 120.0) -> dict[str, Any]:
    """Send one request to a run's owner; raise the owner's error as a StackrigError."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(str(path))
    except OSError:
        sock.close()
        raise StackNotRunning(f"the process that owns this stack is gone (no control socket at {path})",
                              hint="start the stack again") from None
    with sock, sock.makefile("rwb") as f:
        f.write(json.dumps(request).encode() + b"\n")
        f.flush()
        line = f.readline()
    if not line:
        raise StackrigError("the stack's owner closed the control channel without answering")
    reply: dict[str, Any] = json.loads(line)
    if not reply.get("ok"):
        error = reply.get("error")
        if isinstance(error, dict):
            raise error_from_payload(error)
        raise StackrigError(str(error or "the stack's owner reported an unknown error"))
    return reply
