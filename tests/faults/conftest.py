"""Fixtures: a real fault proxy process, a real TCP echo server, and proxies between them."""

from __future__ import annotations

import json
import os
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from helpers import guard, unguard

from stackrig.faults import Fault, FaultClient
from stackrig.supervisor import allocate_port

DEADLINE = 30.0  # generous: the machine is shared and loaded


@dataclass
class FaultServer:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    config_proxy_port: int

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        sock: socket.socket = self.request
        try:
            while data := sock.recv(65536):
                sock.sendall(data)
        except OSError:
            pass


class _EchoServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@pytest.fixture(scope="session")
def echo_addr() -> Iterator[str]:
    server = _EchoServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _wait_ready(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"fault proxy exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            if httpx.get(url + "/version", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)  # polling interval for readiness, not synchronisation
    raise AssertionError(f"fault proxy not ready at {url} after {DEADLINE} s:\n{log_path.read_text()}")


@pytest.fixture(scope="session")
def fault_server(tmp_path_factory: pytest.TempPathFactory, echo_addr: str) -> Iterator[FaultServer]:
    tmp = tmp_path_factory.mktemp("faults")
    api = allocate_port()
    listen = allocate_port()
    config = tmp / "proxies.json"
    config.write_text(json.dumps([{"name": "from-config", "listen": f"127.0.0.1:{listen.port}",
                                   "upstream": echo_addr, "enabled": True}]))
    log_path = tmp / "faults.log"
    with log_path.open("wb") as log:
        process = guard(subprocess.Popen(
            [sys.executable, "-m", "stackrig.faults", "--api-port", str(api.port), "--config", str(config)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
    api.release()
    listen.release()
    url = f"http://127.0.0.1:{api.port}"
    try:
        _wait_ready(url, process, log_path)
        yield FaultServer(url, process, log_path, listen.port)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=DEADLINE)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        unguard(process)


@pytest.fixture
def faults(fault_server: FaultServer) -> Iterator[FaultClient]:
    client = FaultClient(fault_server.url)
    before = set(client.proxies())
    yield client
    client.reset()
    for name in set(client.proxies()) - before:
        client.request("DELETE", f"/proxies/{name}")
    client.close()


@dataclass
class Proxied:
    fault: Fault
    port: int

    def connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=DEADLINE)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock


@pytest.fixture
def echo_proxy(faults: FaultClient, echo_addr: str) -> Proxied:
    fault = faults.create(f"echo-{uuid.uuid4().hex[:8]}", echo_addr)
    return Proxied(fault, int(fault.listen.rsplit(":", 1)[1]))

