"""Readiness probes and the one-deadline wait.

A probe is anything with ``describe()`` and ``check(target) -> bool``
(:class:`Probe`); the wait loop polls it every few milliseconds under one
deadline and fails at once when the process exits.
"""

from __future__ import annotations

import re
import socket
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

__all__ = ["Probe", "ProbeTarget", "HttpProbe", "TcpProbe", "LogProbe", "CommandProbe", "WebSocketProbe", "AllOf",
           "wait_ready"]


@dataclass
class ProbeTarget:
    """What a probe looks at."""

    host: str
    port: int | None
    log_path: Path
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    log_offset: int = 0  # where this instance's output starts (logs are appended across restarts)


class Probe(Protocol):
    def describe(self) -> str: ...

    def check(self, target: ProbeTarget) -> bool: ...


class TcpProbe:
    def describe(self) -> str:
        return "a TCP connection"

    def check(self, target: ProbeTarget) -> bool:
        if target.port is None:
            return False
        try:
            with socket.create_connection((target.host, target.port), timeout=0.5):
                return True
        except OSError:
            return False


class HttpProbe:
    def __init__(self, path: str = "/", status: int | None = None) -> None:
        self.path = path
        self.status = status

    def describe(self) -> str:
        want = f"HTTP {self.status}" if self.status else "an HTTP 2xx/3xx answer"
        return f"{want} from GET {self.path}"

    def check(self, target: ProbeTarget) -> bool:
        if target.port is None:
            return False
        import http.client  # its import costs the CLI ~11 ms (email, ssl): only when a probe needs it

        conn = http.client.HTTPConnection(target.host, target.port, timeout=2)
        try:
            conn.request("GET", self.path, headers={"User-Agent": "stackrig-probe"})
            code = conn.getresponse().status
        except (OSError, http.client.HTTPException):
            return False
        finally:
            conn.close()
        return code == self.status if self.status else 200 <= code < 400


class WebSocketProbe:
    """Ready when a WebSocket handshake on `path` is accepted (``101 Switching Protocols``)."""

    def __init__(self, path: str = "/") -> None:
        self.path = path

    def describe(self) -> str:
        return f"a WebSocket handshake on {self.path}"

    def check(self, target: ProbeTarget) -> bool:
        if target.port is None:
            return False
        import base64
        import os

        key = base64.b64encode(os.urandom(16)).decode()
        request = (f"GET {self.path} HTTP/1.1\r\nHost: {target.host}:{target.port}\r\nUpgrade: websocket\r\n"
                   f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                   "User-Agent: stackrig-probe\r\n\r\n").encode()
        try:
            with socket.create_connection((target.host, target.port), timeout=2) as sock:
                sock.sendall(request)
                head = b""
                while b"\r\n" not in head and len(head) < 4096:
                    chunk = sock.recv(1024)
                    if not chunk:
                        break
                    head += chunk
        except OSError:
            return False
        parts = head.split(b" ", 2)
        return len(parts) >= 2 and parts[1] == b"101"


class LogProbe:
    """Ready when a line of the service's log matches a regex; reads only new bytes."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self._regex = re.compile(pattern.encode(), re.MULTILINE)
        self._offset: int | None = None
        self._carry = b""

    def describe(self) -> str:
        return f"a log line matching /{self.pattern}/"

    def check(self, target: ProbeTarget) -> bool:
        if self._offset is None:
            self._offset = target.log_offset
        try:
            with open(target.log_path, "rb") as f:
                f.seek(self._offset)
                chunk = f.read()
        except OSError:
            return False
        if not chunk:
            return False
        self._offset += len(chunk)
        data = self._carry + chunk
        if self._regex.search(data):
            return True
        self._carry = data[data.rfind(b"\n") + 1:]
        return False


class CommandProbe:
    def __init__(self, command: str) -> None:
        self.command = command

    def describe(self) -> str:
        return f"`{self.command}` to exit 0"

    def check(self, target: ProbeTarget) -> bool:
        try:
            done = subprocess.run(self.command, shell=True, env=dict(target.env), cwd=target.cwd,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10)
        except subprocess.TimeoutExpired:
            return False
        return done.returncode == 0


class AllOf:
    """Ready when every probe has passed (each is checked until it passes once)."""

    def __init__(self, *probes: Probe) -> None:
        self.probes = list(probes)
        self._passed: set[int] = set()

    def describe(self) -> str:
        return " and ".join(p.describe() for p in self.probes)

    def check(self, target: ProbeTarget) -> bool:
        for i, p in enumerate(self.probes):
            if i not in self._passed:
                if not p.check(target):
                    return False
                self._passed.add(i)
        return True


def wait_ready(
    probe: Probe,
    target: ProbeTarget,
    *,
    deadline: float,
    exited: Callable[[], int | None],
    cancelled: Callable[[], bool] = lambda: False,
) -> tuple[bool, int | None]:
    """Poll `probe` until it passes, the process exits, or `deadline` (monotonic) passes.

    Returns ``(True, None)`` when ready, ``(False, returncode)`` when the process
    exited, ``(False, None)`` at the deadline or when cancelled.
    """
    delay = 0.002
    while True:
        if probe.check(target):
            return True, None
        code = exited()
        if code is not None:
            return False, code
        if cancelled() or time.monotonic() >= deadline:
            return False, None
        time.sleep(delay)
        delay = min(delay * 1.5, 0.005)  # a log or TCP check costs microseconds: poll often
