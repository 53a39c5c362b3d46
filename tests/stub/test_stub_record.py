"""Record mode: proxy to a real upstream and write mapping files for what it answered."""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from stubhelpers import StartStub

from stackrig.stub import StubClient, get


class _Upstream(BaseHTTPRequestHandler):
    calls = 0

    def _answer(self) -> None:
        type(self).calls += 1
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        payload = json.dumps({"path": self.path, "method": self.command, "echo": body.decode()}).encode()
        self.send_response(201 if self.command == "POST" else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Upstream", "yes")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def upstream() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def _mapping_files(root: Path) -> list[dict[str, object]]:
    return [json.loads(p.read_text()) for p in sorted((root / "mappings").glob("*.json"))]


def test_record_upstream_writes_mappings_that_replay(start_stub: StartStub, tmp_path: Path, upstream: str) -> None:
    recorder = start_stub(tmp_path, "--record-upstream", upstream)
    with httpx.Client(base_url=recorder.url, timeout=10) as http:
        first = http.get("/users/1?x=2")
        created = http.post("/users", json={"name": "Ann"})
        http.get("/users/1?x=2")  # a repeat is recorded once
    assert first.json() == {"path": "/users/1?x=2", "method": "GET", "echo": ""}
    assert first.headers["x-upstream"] == "yes"
    assert created.status_code == 201
    recorder.proc.send_signal(signal.SIGTERM)
    assert recorder.proc.wait(timeout=15) == 0

    files = _mapping_files(tmp_path)
    assert len(files) == 2
    by_method = {f["request"]["method"]: f for f in files}  # type: ignore[index]
    assert by_method["GET"]["request"] == {"url": "/users/1?x=2", "method": "GET"}
    assert by_method["POST"]["request"]["bodyPatterns"][0]["equalToJson"] == '{"name":"Ann"}'  # type: ignore[index]

    calls_before = _Upstream.calls
    replay = start_stub(tmp_path)
    with httpx.Client(base_url=replay.url, timeout=10) as http:
        again = http.get("/users/1?x=2")
        assert again.json() == first.json()
        assert again.headers["x-upstream"] == "yes"
        assert http.post("/users", json={"name": "Ann"}).status_code == 201
        assert http.post("/users", json={"name": "Bob"}).status_code == 404
    assert _Upstream.calls == calls_before  # served from the files, not the upstream


def test_recording_through_the_admin_api(start_stub: StartStub, tmp_path: Path, upstream: str) -> None:
    server = start_stub(tmp_path)
    with StubClient(server.url) as stub, httpx.Client(base_url=server.url, timeout=10) as http:
        stub.on(get("/local")).reply(200, body="local")
        assert server.admin("GET", "/recordings/status").json() == {"status": "NeverStarted"}
        stub.start_recording(upstream)
        assert server.admin("GET", "/recordings/status").json() == {"status": "Recording"}
        assert http.get("/remote/thing").json()["path"] == "/remote/thing"
        mappings = stub.stop_recording()
        assert [m["request"]["url"] for m in mappings] == ["/remote/thing"]  # type: ignore[index]
        assert http.get("/local").text == "local"
        assert http.get("/remote/thing").json()["path"] == "/remote/thing"  # now a stub
    assert len(_mapping_files(tmp_path)) == 1
