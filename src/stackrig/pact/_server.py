"""The HTTP endpoints the Pact verifier calls back, served from the stackrig process.

``POST /_pact/state`` (``{"state", "params", "action"}``) sets a provider state up (or tears it
down); ``POST /_pact/message`` (``{"description", "providerStates"}``) produces a message and
answers its bytes, its content type and, in ``Pact-Message-Metadata``, its metadata (base64 JSON)
— what the Rust verifier expects of a message provider.  HTTP/1.1 with keep-alive on 127.0.0.1,
a free port, a daemon thread.

A handler that fails still answers 200 (an empty state, an empty message): the verifier retries a
failed state change for minutes, while the callbacks have noted the reason, which fails the
interaction in stackrig's report.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["CallbackServer", "Produced"]


@dataclass
class Produced:
    """A message for the verifier."""

    body: bytes
    content_type: str
    metadata: dict[str, Any] = field(default_factory=dict)


StateCallback = Callable[[str, dict[str, Any], str], dict[str, Any]]
MessageCallback = Callable[[str, list[dict[str, Any]]], Produced]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no 40 ms delayed-ACK stalls

    def _reply(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        lines = [f"HTTP/1.1 {status} {'OK' if status == 200 else 'Not Found'}", f"Content-Type: {content_type}",
                 f"Content-Length: {len(body)}", *(f"{k}: {v}" for k, v in (headers or {}).items())]
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)  # one write per answer

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            data = {}
        path = self.path.split("?", 1)[0].rstrip("/")
        try:
            if path.endswith("/_pact/state") or path.endswith("/_pact/provider-states"):
                answer = self.server.on_state(str(data.get("state") or ""), dict(data.get("params") or {}),
                                              str(data.get("action") or "setup"))
                self._reply(200, json.dumps(answer).encode(), "application/json")
            elif path.endswith("/_pact/message"):
                produced = self.server.on_message(str(data.get("description") or ""),
                                                  list(data.get("providerStates") or []))
                meta = base64.b64encode(json.dumps(produced.metadata).encode()).decode("ascii")
                self._reply(200, produced.body, produced.content_type, {"Pact-Message-Metadata": meta})
            else:
                self._reply(404, f"no endpoint {self.path}".encode(), "text/plain")
        except Exception as exc:  # noqa: BLE001 - noted by the callbacks; a 500 would be retried for minutes
            self._reply(200, b"{}", "application/json", {"X-Stackrig-Error": f"{type(exc).__name__}: {exc}"[:500]
                                                         .replace("\r", " ").replace("\n", " ")})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    on_state: StateCallback
    on_message: MessageCallback


class CallbackServer:
    """Serve the state and message endpoints until :meth:`close` (a context manager too)."""

    def __init__(self, on_state: StateCallback, on_message: MessageCallback, host: str = "127.0.0.1") -> None:
        self._server = _Server((host, 0), _Handler)
        self._server.on_state = on_state
        self._server.on_message = on_message
        self.host = host
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="stackrig-pact-callbacks", daemon=True)
        self._thread.start()

    @property
    def state_url(self) -> str:
        return f"http://{self.host}:{self.port}/_pact/state"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> CallbackServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
