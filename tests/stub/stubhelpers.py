"""Helpers for the stub server tests: real server processes on free ports (importable as `stubhelpers`)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
CONFORMANCE = REPO.parent / "shared" / "conformance" / "wiremock"
OWN_CASES = Path(__file__).resolve().parent / "cases"
READY_DEADLINE = 30.0  # generous: the machine is shared and loaded; this bounds waiting, it measures nothing


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class StubProcess:
    """One ``python -m stackrig.stub`` child process."""

    def __init__(self, root: Path | None, *extra: str) -> None:
        self.port = free_port()
        self.root = root
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "stackrig.stub", "--host", "127.0.0.1", "--port", str(self.port)]
        if root is not None:
            cmd += ["--root", str(root)]
        cmd += list(extra)
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
        )

    def wait_ready(self) -> StubProcess:
        deadline = time.monotonic() + READY_DEADLINE
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                out, err = self.proc.communicate()
                raise AssertionError(f"stub server exited with {self.proc.returncode} while starting:\n{err}{out}")
            try:
                r = httpx.get(self.url + "/__admin/health", timeout=2.0)
                if r.status_code == 200 and r.json().get("status") == "healthy":
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise AssertionError(f"stub server on port {self.port} not healthy within {READY_DEADLINE}s")

    def admin(self, method: str, path: str, payload: Any = None) -> httpx.Response:
        body = None if payload is None else json.dumps(payload)
        return httpx.request(method, f"{self.url}/__admin{path}", content=body, timeout=10.0)

    def stop(self) -> int:
        """SIGTERM, then SIGKILL if it is still there after a generous grace period."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc.communicate()
        return self.proc.returncode


StartStub = Callable[..., StubProcess]
