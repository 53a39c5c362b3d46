"""WireMock's record API over real HTTP: ``/__admin/recordings/start|stop|status|snapshot`` with
scenarios for repeated requests, filters, persist, captured headers, extracted bodies and bounds."""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from stubhelpers import StartStub

from stackrig.stub import StubClient, get


class Upstream:
    """A real upstream whose answers per path are set by the test; the last answer repeats."""

    def __init__(self) -> None:
        self.answers: dict[str, list[str]] = {}
        self.calls: list[str] = []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                upstream.calls.append(f"{self.command} {self.path}")
                queue = upstream.answers.get(self.path.split("?")[0]) or [f"{self.command} {self.path}"]
                payload = (queue.pop(0) if len(queue) > 1 else queue[0]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json" if payload[:1] == b"{" else "text/plain")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = _answer

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    up = Upstream()
    thread = threading.Thread(target=up.server.serve_forever, daemon=True)
    thread.start()
    yield up
    up.server.shutdown()
    up.server.server_close()
    thread.join()


def _files(root: Path, folder: str = "mappings") -> list[Path]:
    return sorted((root / folder).glob("*")) if (root / folder).is_dir() else []


def _by_state(mappings: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {m["requiredScenarioState"]: m for m in mappings if "scenarioName" in m}


def test_repeats_with_different_answers_become_a_scenario(
    start_stub: StartStub, tmp_path: Path, upstream: Upstream
) -> None:
    upstream.answers["/orders/7"] = ['{"n": 1}', '{"n": 2}', '{"n": 3}']
    server = start_stub(tmp_path)
    assert server.admin("POST", "/recordings/start", {"targetBaseUrl": upstream.url}).status_code == 200
    with httpx.Client(base_url=server.url, timeout=10) as http:
        seen = [http.get("/orders/7").json()["n"] for _ in range(3)]
        assert http.get("/other").text == "GET /other"
    assert seen == [1, 2, 3]
    stopped = server.admin("POST", "/recordings/stop")
    assert stopped.status_code == 200
    mappings = stopped.json()["mappings"]
    assert len(mappings) == 4
    steps = _by_state(mappings)
    name = "scenario-1-orders-7"
    assert set(steps) == {"Started", f"{name}-2", f"{name}-3"}
    assert {m["scenarioName"] for m in steps.values()} == {name}
    assert steps["Started"]["newScenarioState"] == f"{name}-2"
    assert steps[f"{name}-2"]["newScenarioState"] == f"{name}-3"
    assert "newScenarioState" not in steps[f"{name}-3"]
    assert [json.loads(steps[s]["response"]["body"])["n"] for s in ("Started", f"{name}-2", f"{name}-3")] == [1, 2, 3]
    assert all(m["name"] == "orders_7" and m["persistent"] is True for m in steps.values())
    assert [m["request"] for m in mappings if "scenarioName" not in m] == [{"url": "/other", "method": "GET"}]
    # persisted under WireMock's file names, and replayed in order (the last answer repeats)
    assert sorted(p.name for p in _files(tmp_path)) == sorted(f"{m['name']}-{m['id']}.json" for m in mappings)
    calls = len(upstream.calls)
    replay = start_stub(tmp_path)
    with httpx.Client(base_url=replay.url, timeout=10) as http:
        assert [http.get("/orders/7").json()["n"] for _ in range(4)] == [1, 2, 3, 3]
    assert len(upstream.calls) == calls


def test_identical_trailing_repeats_are_one_step(start_stub: StartStub, upstream: Upstream) -> None:
    upstream.answers["/status"] = ["starting", "up", "up", "up"]
    server = start_stub(None)
    with StubClient(server.url) as stub, httpx.Client(base_url=server.url, timeout=10) as http:
        stub.start_recording(upstream.url)
        assert [http.get("/status").text for _ in range(4)] == ["starting", "up", "up", "up"]
        mappings = stub.stop_recording()
        assert sorted((m["requiredScenarioState"], m["response"]["body"]) for m in mappings) == [
            ("Started", "starting"),
            ("scenario-1-status-2", "up"),
        ]
        assert [http.get("/status").text for _ in range(3)] == ["starting", "up", "up"]


def test_without_repeats_as_scenarios_the_newest_answer_is_kept(start_stub: StartStub, upstream: Upstream) -> None:
    upstream.answers["/token"] = ["first", "second"]
    server = start_stub(None)
    with StubClient(server.url) as stub, httpx.Client(base_url=server.url, timeout=10) as http:
        stub.start_recording(upstream.url, repeats_as_scenarios=False)
        http.get("/token")
        http.get("/token")
        mappings = stub.stop_recording()
        assert len(mappings) == 1
        assert mappings[0]["response"]["body"] == "second"  # WireMock keeps the newest
        assert "scenarioName" not in mappings[0]
        assert http.get("/token").text == "second"


def test_filters_and_persist_false(start_stub: StartStub, tmp_path: Path, upstream: Upstream) -> None:
    server = start_stub(tmp_path)
    with StubClient(server.url) as stub, httpx.Client(base_url=server.url, timeout=10) as http:
        stub.start_recording(upstream.url, filters=get().url_matching("/api/.*"), persist=False)
        assert stub.recording_status() == "Recording"
        http.get("/api/users?page=2")
        http.post("/api/users", content=b"x")
        http.get("/health")
        mappings = stub.stop_recording()
        assert stub.recording_status() == "Stopped"
        assert [(m["request"]["method"], m["request"]["url"]) for m in mappings] == [("GET", "/api/users?page=2")]
        assert "persistent" not in mappings[0]
        assert http.get("/api/users?page=2").text == "GET /api/users?page=2"  # now a stub
        assert http.get("/health").status_code == 404  # not recorded, and the proxy is gone
    assert _files(tmp_path) == []


def test_status_errors_and_a_second_start(start_stub: StartStub, upstream: Upstream) -> None:
    server = start_stub(None)
    assert server.admin("GET", "/recordings/status").json() == {"status": "NeverStarted"}
    not_recording = server.admin("POST", "/recordings/stop")
    assert not_recording.status_code == 400
    assert not_recording.json()["errors"][0]["code"] == 30
    for bad in (
        {"targetBaseUrl": "ftp://example"},
        {"targetBaseURL": upstream.url},
        {"targetBaseUrl": upstream.url, "repeatsAsScenarios": "yes"},
        {"targetBaseUrl": upstream.url, "filters": {"urlPatern": "/x"}},
        {"targetBaseUrl": upstream.url, "transformers": ["my-transformer"]},
    ):
        resp = server.admin("POST", "/recordings/start", bad)
        assert resp.status_code == 422, bad
        assert resp.json()["errors"][0]["code"] == 10
    assert "did you mean 'targetBaseUrl'" in server.admin("POST", "/recordings/start", {"targetBaseURL": "x"}).text
    assert server.admin("GET", "/recordings/status").json() == {"status": "NeverStarted"}
    assert server.admin("POST", "/recordings/start", {"targetBaseUrl": upstream.url}).json() == {}
    assert server.admin("POST", "/recordings/start", {"targetBaseUrl": "http://127.0.0.1:9"}).status_code == 200
    proxies = [m for m in server.admin("GET", "/mappings").json()["mappings"] if "proxyBaseUrl" in m["response"]]
    assert [p["response"]["proxyBaseUrl"] for p in proxies] == [upstream.url]  # the second start changed nothing
    assert httpx.get(server.url + "/x", timeout=10).text == "GET /x"
    assert server.admin("POST", "/recordings/stop").status_code == 200
    assert server.admin("POST", "/recordings/stop").status_code == 400


def test_snapshot_makes_stubs_from_proxied_requests_in_the_journal(
    start_stub: StartStub, tmp_path: Path, upstream: Upstream
) -> None:
    upstream.answers["/prices"] = ["10", "12"]
    server = start_stub(tmp_path)
    with StubClient(server.url) as stub, httpx.Client(base_url=server.url, timeout=10) as http:
        stub.on(get("/local")).reply(200, body="local")
        stub.on(get().url_matching("/(prices|fx).*")).proxy_to(upstream.url)
        assert [http.get("/prices").text, http.get("/prices").text, http.get("/fx").text] == ["10", "12", "GET /fx"]
        http.get("/local")
        ids = server.admin("POST", "/recordings/snapshot", {"outputFormat": "ids", "persist": False}).json()
        assert len(ids["ids"]) == 3
        stub.reset()
        stub.remove_all()
        assert server.admin("POST", "/recordings/snapshot").json() == {"mappings": []}  # the journal is empty
        stub.on(get().url_matching("/(prices|fx).*")).proxy_to(upstream.url)
        upstream.answers["/prices"] = ["20", "21"]
        http.get("/prices")
        http.get("/fx")
        http.get("/prices")
        journal = server.admin("GET", "/requests").json()["requests"]  # newest first
        fx_id = journal[1]["id"]
        only_fx = stub.snapshot(filters={"ids": [fx_id]}, persist=False)
        assert [m["request"]["url"] for m in only_fx] == ["/fx"]
        prices = stub.snapshot(filters=get("/prices"))
        assert sorted((m["requiredScenarioState"], m["response"]["body"]) for m in prices) == [
            ("Started", "20"),
            ("scenario-1-prices-2", "21"),
        ]
    assert len(_files(tmp_path)) == 2  # only the persisted snapshot was written


def test_captured_headers_body_patterns_and_extracted_bodies(
    start_stub: StartStub, tmp_path: Path, upstream: Upstream
) -> None:
    upstream.answers["/search"] = ['{"hits": ["a", "b", "c"], "total": 3}']
    server = start_stub(tmp_path)
    spec = {
        "targetBaseUrl": upstream.url,
        "captureHeaders": {"X-Tenant": {}, "Accept": {"caseInsensitive": True}},
        "extractBodyCriteria": {"textSizeThreshold": "20", "binarySizeThreshold": "1 KB"},
    }
    assert server.admin("POST", "/recordings/start", spec).status_code == 200
    headers = {"X-Tenant": "acme", "Accept": "application/json", "Content-Type": "application/json"}
    with httpx.Client(base_url=server.url, timeout=10) as http:
        http.post("/search", content=b'{"q": "shoes", "tags": [1, 2]}', headers=headers)
        http.put("/note", content=b"short", headers={"Content-Type": "text/plain"})
    (search,) = [m for m in server.admin("POST", "/recordings/stop").json()["mappings"] if m["name"] == "search"]
    assert search["request"]["headers"] == {
        "X-Tenant": {"equalTo": "acme"},
        "Accept": {"equalTo": "application/json", "caseInsensitive": True},
    }
    assert search["request"]["bodyPatterns"] == [
        {"equalToJson": '{"q": "shoes", "tags": [1, 2]}', "ignoreArrayOrder": True, "ignoreExtraElements": True}
    ]
    body_file = search["response"]["bodyFileName"]
    assert body_file == f"search-{search['id']}.json"
    assert json.loads((tmp_path / "__files" / body_file).read_text()) == {"hits": ["a", "b", "c"], "total": 3}
    assert "body" not in search["response"]
    with httpx.Client(base_url=server.url, timeout=10) as http:
        again = http.post("/search", content=b'{"tags": [2, 1], "q": "shoes"}', headers=headers)
        assert again.json()["total"] == 3
        assert http.post("/search", content=b'{"q": "boots"}', headers=headers).status_code == 404
        assert http.put("/note", content=b"short").text == "PUT /note"  # short body: kept inline
    assert [p.name for p in _files(tmp_path, "__files")] == [body_file]


def test_a_recording_is_bounded(start_stub: StartStub, upstream: Upstream) -> None:
    server = start_stub(None, "--recording-limit", "2")
    with StubClient(server.url) as stub, httpx.Client(base_url=server.url, timeout=10) as http:
        stub.start_recording(upstream.url)
        for path in ("/a", "/b", "/c"):
            http.get(path)
        assert sorted(m["request"]["url"] for m in stub.stop_recording()) == ["/b", "/c"]
    server.proc.send_signal(signal.SIGTERM)
    _, err = server.proc.communicate(timeout=15)
    assert "the oldest exchanges are dropped" in err
