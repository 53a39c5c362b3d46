"""The server process: faults seen by real clients, the bounded journal, HTTP details, files,
start-up errors, admin errors and shutdown."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from stubhelpers import StartStub, StubProcess

from stackrig.stub import MappingError, StubClient, get, post
from stackrig.stub._files import load_mappings


def _raw(port: int, data: bytes, timeout: float = 10.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk


# -- faults, from a real HTTP client ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "error", "text"),
    [
        ("CONNECTION_RESET_BY_PEER", (httpx.ReadError, httpx.RemoteProtocolError), None),
        ("EMPTY_RESPONSE", httpx.RemoteProtocolError, "without sending a response"),
        ("MALFORMED_RESPONSE_CHUNK", httpx.RemoteProtocolError, None),
        ("RANDOM_DATA_THEN_CLOSE", httpx.RemoteProtocolError, None),
    ],
)
def test_faults_break_a_real_client(shared_stub: StubProcess, fault: str, error: type, text: str | None) -> None:
    with StubClient(shared_stub.url) as stub:
        stub.reset()
        stub.on(get("/boom")).fault(fault)
        stub.on(get("/fine")).reply(200, body="fine")
        with httpx.Client(base_url=shared_stub.url, timeout=10) as http:
            with pytest.raises(error, match=text):
                http.get("/boom")
            assert http.get("/fine").text == "fine"  # the server itself is unharmed


def test_connection_reset_is_a_tcp_reset(shared_stub: StubProcess) -> None:
    with StubClient(shared_stub.url) as stub:
        stub.reset()
        stub.on(get("/rst")).fault("CONNECTION_RESET_BY_PEER")
    with pytest.raises(ConnectionResetError):
        _raw(shared_stub.port, b"GET /rst HTTP/1.1\r\nHost: x\r\n\r\n")


def test_random_data_is_not_http_and_always_the_same(shared_stub: StubProcess) -> None:
    with StubClient(shared_stub.url) as stub:
        stub.reset()
        stub.on(get("/garbage")).fault("RANDOM_DATA_THEN_CLOSE")
    first = _raw(shared_stub.port, b"GET /garbage HTTP/1.1\r\nHost: x\r\n\r\n")
    second = _raw(shared_stub.port, b"GET /garbage HTTP/1.1\r\nHost: x\r\n\r\n")
    assert first and not first.startswith(b"HTTP/")
    assert first == second


# -- the journal is bounded --------------------------------------------------------------------------


def test_journal_keeps_only_the_newest_requests(start_stub: StartStub) -> None:
    server = start_stub(None, "--journal-limit", "5")
    with httpx.Client(base_url=server.url, timeout=10) as http:
        for i in range(12):
            http.get(f"/r/{i}")
    listing = server.admin("GET", "/requests").json()
    assert listing["meta"]["total"] == 5
    assert [e["request"]["url"] for e in listing["requests"]] == [f"/r/{i}" for i in (11, 10, 9, 8, 7)]
    count = server.admin("POST", "/requests/count", {"method": "ANY", "urlPattern": ".*"}).json()
    assert count["count"] == 5
    found = server.admin("POST", "/requests/find", {"method": "GET", "url": "/r/0"}).json()
    assert found["requests"] == []  # the oldest are gone


def test_journal_can_be_switched_off(start_stub: StartStub) -> None:
    server = start_stub(None, "--journal-limit", "0")
    httpx.get(server.url + "/x", timeout=10)
    listing = server.admin("GET", "/requests").json()
    assert listing["requests"] == [] and listing["requestJournalDisabled"] is True


# -- HTTP details ------------------------------------------------------------------------------------


def test_pipelined_requests_are_answered_in_order(shared_stub: StubProcess) -> None:
    with StubClient(shared_stub.url) as stub:
        stub.reset()
        stub.on(get("/slow")).reply(200, body="slow", delay_ms=200)
        stub.on(get("/fast")).reply(200, body="fast")
    data = b"".join(
        f"GET /{p} HTTP/1.1\r\nHost: x\r\n{'Connection: close' if i == 2 else 'X: y'}\r\n\r\n".encode()
        for i, p in enumerate(("slow", "fast", "fast"))
    )
    out = _raw(shared_stub.port, data)
    bodies = [part.split(b"\r\n\r\n", 1)[1][:4] for part in out.split(b"HTTP/1.1 ")[1:]]
    assert bodies == [b"slow", b"fast", b"fast"]


def test_chunked_request_body_and_expect_continue(shared_stub: StubProcess) -> None:
    with StubClient(shared_stub.url) as stub:
        stub.reset()
        stub.on(get("/c").body("hello world")).reply(200, body="got it")
    chunked = (
        b"GET /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    )
    assert _raw(shared_stub.port, chunked).endswith(b"got it")
    with socket.create_connection(("127.0.0.1", shared_stub.port), timeout=10) as s:
        s.sendall(
            b"GET /c HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"
        )
        assert s.recv(100).startswith(b"HTTP/1.1 100 Continue")
        s.sendall(b"hello world")
        rest = b""
        while chunk := s.recv(4096):
            rest += chunk
        assert rest.endswith(b"got it")


def test_large_body_in_many_reads_is_matched(shared_stub: StubProcess) -> None:
    payload = ("x" * 1_000_000) + "needle"
    with StubClient(shared_stub.url) as stub:
        stub.reset()
        stub.on(post("/upload").body_contains("needle")).reply(200, body="found")
    with httpx.Client(base_url=shared_stub.url, timeout=30) as http:
        assert http.post("/upload", content=payload).text == "found"
        assert http.post("/upload", content="x" * 200_000).status_code == 404
        assert http.post("/upload", content=payload).text == "found"  # the connection is still in sync


def test_malformed_request_line_gets_400(shared_stub: StubProcess) -> None:
    out = _raw(shared_stub.port, b"NONSENSE\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 400 ")
    assert b"malformed request line" in out


def test_unmatched_request_gets_a_near_miss_report(shared_stub: StubProcess) -> None:
    with StubClient(shared_stub.url) as stub:
        stub.reset()
        stub.on(get("/users").query(page="1")).reply(200)
    resp = httpx.get(shared_stub.url + "/users?page=2", timeout=10)
    assert resp.status_code == 404
    assert resp.headers["content-type"].startswith("text/plain")
    assert "Request was not matched" in resp.text
    assert "[path] /users".ljust(59) + "| /users?page=2\n" in resp.text
    assert "Query: page = 1".ljust(59) + "| " + "page: 2".ljust(52) + "<<<<< Query does not match\n" in resp.text
    near = shared_stub.admin("GET", "/requests/unmatched/near-misses").json()["nearMisses"]
    assert near[0]["stubMapping"]["request"]["urlPath"] == "/users"
    assert near[0]["matchResult"]["distance"] > 0


def test_near_misses_for_a_described_request(shared_stub: StubProcess) -> None:
    with StubClient(shared_stub.url) as stub:
        stub.reset()
        stub.on(get("/orders").header("Accept", "application/json")).reply(200)
        stub.on(post("/payments")).reply(201)
    near = shared_stub.admin(
        "POST", "/near-misses/request", {"method": "GET", "url": "/order", "headers": {"Accept": "text/html"}}
    )
    misses = near.json()["nearMisses"]
    assert misses[0]["stubMapping"]["request"]["urlPath"] == "/orders"
    fields = {d["field"] for d in misses[0]["matchResult"]["diffDescriptions"]}
    assert fields == {"URL (urlPath)", "header Accept"}
    assert misses[0]["matchResult"]["distance"] < misses[-1]["matchResult"]["distance"]


def test_global_fixed_delay_setting(shared_stub: StubProcess) -> None:
    with StubClient(shared_stub.url) as stub:
        stub.reset()
        stub.on(get("/d")).reply(200, body="d")
    assert shared_stub.admin("POST", "/settings", {"fixedDelay": 250}).status_code == 200
    try:
        assert shared_stub.admin("GET", "/settings").json() == {"settings": {"fixedDelay": 250}}
        started = time.monotonic()
        assert httpx.get(shared_stub.url + "/d", timeout=10).text == "d"
        assert time.monotonic() - started >= 0.25  # lower bound only
        assert shared_stub.admin("POST", "/settings", {"fixedDelay": -1}).status_code == 422
    finally:
        shared_stub.admin("POST", "/settings", {"fixedDelay": 0})


def test_persistent_stub_is_written_to_the_mappings_folder(start_stub: StartStub, tmp_path: Path) -> None:
    server = start_stub(tmp_path)
    created = server.admin(
        "POST",
        "/mappings",
        {
            "request": {"method": "GET", "url": "/kept"},
            "response": {"body": "kept"},
            "persistent": True,
        },
    ).json()
    server.admin("POST", "/mappings", {"request": {"method": "GET", "url": "/lost"}, "response": {"body": "lost"}})
    assert [p.name for p in (tmp_path / "mappings").iterdir()] == [f"{created['id']}.json"]
    server.stop()
    again = start_stub(tmp_path)
    assert httpx.get(again.url + "/kept", timeout=10).text == "kept"
    assert httpx.get(again.url + "/lost", timeout=10).status_code == 404
    # editing a persistent stub rewrites its file; removing it removes the file (as WireMock does)
    edited = {"request": {"method": "GET", "url": "/kept"}, "response": {"body": "edited"}, "persistent": True}
    assert again.admin("PUT", f"/mappings/{created['id']}", edited).status_code == 200
    assert json.loads((tmp_path / "mappings" / f"{created['id']}.json").read_text())["response"]["body"] == "edited"
    assert again.admin("DELETE", f"/mappings/{created['id']}").status_code == 200
    assert list((tmp_path / "mappings").iterdir()) == []
    assert httpx.get(again.url + "/kept", timeout=10).status_code == 404


def test_body_file_name_reads_from_files_folder(start_stub: StartStub, tmp_path: Path) -> None:
    (tmp_path / "__files" / "sub").mkdir(parents=True)
    (tmp_path / "__files" / "sub" / "big.json").write_text('{"from": "file"}')
    (tmp_path / "mappings").mkdir()
    (tmp_path / "mappings" / "file.json").write_text(
        json.dumps(
            {
                "request": {"method": "GET", "url": "/file"},
                "response": {
                    "status": 200,
                    "bodyFileName": "sub/big.json",
                    "headers": {"Content-Type": "application/json"},
                },
            }
        )
    )
    (tmp_path / "mappings" / "missing.json").write_text(
        json.dumps(
            {
                "request": {"method": "GET", "url": "/missing"},
                "response": {"bodyFileName": "nope.txt"},
            }
        )
    )
    server = start_stub(tmp_path)
    assert httpx.get(server.url + "/file", timeout=10).json() == {"from": "file"}
    missing = httpx.get(server.url + "/missing", timeout=10)
    assert missing.status_code == 500
    assert "bodyFileName 'nope.txt'" in missing.text and "not found" in missing.text


def test_reset_restores_the_mapping_files(start_stub: StartStub, tmp_path: Path) -> None:
    (tmp_path / "mappings").mkdir()
    (tmp_path / "mappings" / "a.json").write_text(
        json.dumps(
            {
                "mappings": [
                    {"request": {"method": "GET", "url": "/one"}, "response": {"body": "1"}},
                    {"request": {"method": "GET", "url": "/two"}, "response": {"body": "2"}},
                ]
            }
        )
    )
    server = start_stub(tmp_path)
    assert httpx.get(server.url + "/two", timeout=10).text == "2"
    server.admin("DELETE", "/mappings")
    assert httpx.get(server.url + "/two", timeout=10).status_code == 404
    server.admin("POST", "/reset")
    assert httpx.get(server.url + "/one", timeout=10).text == "1"


# -- start-up errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            {
                "request": {"method": "POST", "url": "/charge", "bodyPatterns": [{"equalsTo": "x"}]},
                "response": {"status": 200},
            },
            "mappings/charge.json: $.request.bodyPatterns[0]: unknown matcher 'equalsTo' (did you mean 'equalTo'?)",
        ),
        (
            {"request": {"method": "GET", "url": "/charge"}, "response": {"status": 200, "fault": "CONNECTION_RESET"}},
            'mappings/charge.json: $.response.fault: unknown fault "CONNECTION_RESET" '
            "(did you mean 'CONNECTION_RESET_BY_PEER'?)",
        ),
        (
            {"request": {"method": "GET", "urlPattern": "/items/(["}, "response": {}},
            "mappings/charge.json: $.request.urlPattern: invalid regular expression '/items/(['",
        ),
        (
            {"request": {"method": "GET", "url": "/x"}, "respone": {}},
            "mappings/charge.json: $.respone: unknown mapping field 'respone' (did you mean 'response'?)",
        ),
        (
            {
                "request": {"method": "GET", "url": "/x", "headers": {"A": {"equalTo": "1", "caseInsensitve": True}}},
                "response": {},
            },
            "mappings/charge.json: $.request.headers.A: unknown option 'caseInsensitve' for matcher 'equalTo' "
            "(did you mean 'caseInsensitive'?)",
        ),
        (
            {"request": {"method": "GET", "url": "/x"}, "response": {"status": "200"}},
            'mappings/charge.json: $.response.status: status must be an HTTP status code (100-999), found "200"',
        ),
        ("{ not json", "mappings/charge.json: $: not valid JSON at line 1, column 3"),
    ],
)
def test_malformed_mapping_is_located_by_file_and_json_path(tmp_path: Path, content: object, message: str) -> None:
    (tmp_path / "mappings").mkdir()
    (tmp_path / "mappings" / "charge.json").write_text(content if isinstance(content, str) else json.dumps(content))
    with pytest.raises(MappingError) as info:
        load_mappings(tmp_path)
    assert message in str(info.value)
    assert "\n  fix: " in str(info.value)


def test_malformed_mapping_file_refuses_to_start(start_stub: StartStub, tmp_path: Path) -> None:
    (tmp_path / "mappings").mkdir()
    (tmp_path / "mappings" / "charge.json").write_text(
        json.dumps(
            {
                "request": {"method": "POST", "url": "/charge", "bodyPatterns": [{"equalsTo": "x"}]},
                "response": {"status": 200},
            }
        )
    )
    server = start_stub(tmp_path, ready=False)
    code = server.proc.wait(timeout=60)
    _, err = server.proc.communicate()
    assert code == 1
    assert err.startswith(
        "stackrig stub: cannot start: mappings/charge.json: $.request.bodyPatterns[0]: "
        "unknown matcher 'equalsTo' (did you mean 'equalTo'?)\n  fix: use one of: equalTo,"
    )


def test_error_in_a_multi_mapping_file_names_the_index(start_stub: StartStub, tmp_path: Path) -> None:
    (tmp_path / "mappings").mkdir()
    (tmp_path / "mappings" / "many.json").write_text(
        json.dumps(
            {
                "mappings": [
                    {"request": {"method": "GET", "url": "/ok"}, "response": {}},
                    {"request": {"method": "GET", "url": "/bad", "cookies": {"c": {"absent": False}}}, "response": {}},
                ]
            }
        )
    )
    server = start_stub(tmp_path, ready=False)
    assert server.proc.wait(timeout=60) == 1
    _, err = server.proc.communicate()
    assert "mappings/many.json: $.mappings[1].request.cookies.c.absent: absent: false is not a matcher" in err


def test_port_in_use_is_reported(start_stub: StartStub) -> None:
    first = start_stub(None)
    result = subprocess.run(
        [sys.executable, "-m", "stackrig.stub", "--port", str(first.port)],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{first.port}" in result.stderr


# -- admin API errors ----------------------------------------------------------------------------------


def test_admin_rejects_bad_bodies_with_reasons(shared_stub: StubProcess) -> None:
    bad_json = httpx.post(shared_stub.url + "/__admin/mappings", content="{oops", timeout=10)
    assert bad_json.status_code == 422
    assert "not valid JSON" in bad_json.json()["errors"][0]["detail"]
    wrong = shared_stub.admin(
        "POST", "/mappings", {"request": {"method": "GET", "url": "/x"}, "response": {"status": "abc"}}
    )
    assert wrong.status_code == 422
    error = wrong.json()["errors"][0]
    assert error["code"] == 10 and error["source"]["pointer"] == "/response/status"
    assert 'found "abc"' in error["detail"]
    bad_limit = shared_stub.admin("GET", "/requests?limit=many")
    assert bad_limit.status_code == 400 and "'limit' must be an integer" in bad_limit.text
    unknown = shared_stub.admin("GET", "/nothing-here")
    assert unknown.status_code == 404 and unknown.content == b""  # as WireMock; the reason is in a header
    assert "GET /__admin/nothing-here is not an admin endpoint" in unknown.headers["x-stackrig-error"]
    bad_recording = shared_stub.admin("POST", "/recordings/start", {"targetBaseUrl": "ftp://x"})
    assert bad_recording.status_code == 422 and "targetBaseUrl" in bad_recording.text
    not_recording = shared_stub.admin("POST", "/recordings/stop")
    assert not_recording.status_code == 400 and not_recording.json()["errors"][0]["code"] == 30


def test_bad_template_is_refused_when_the_stub_is_added(shared_stub: StubProcess) -> None:
    resp = shared_stub.admin(
        "POST",
        "/mappings",
        {
            "request": {"method": "GET", "url": "/t"},
            "response": {"body": "{{nosuchhelper request.path}}", "transformers": ["response-template"]},
        },
    )
    assert resp.status_code == 422
    detail = resp.json()["errors"][0]["detail"]
    assert "$.response.body: bad response template: unknown or unsupported helper 'nosuchhelper'" in detail
    unclosed = shared_stub.admin(
        "POST",
        "/mappings",
        {
            "request": {"method": "GET", "url": "/t"},
            "response": {"body": "{{#if request.path}}yes", "transformers": ["response-template"]},
        },
    )
    assert unclosed.status_code == 422 and "is never closed" in unclosed.text


# -- shutdown ----------------------------------------------------------------------------------------------


def test_sigterm_exits_cleanly_with_open_connections(start_stub: StartStub) -> None:
    server = start_stub(None)
    with httpx.Client(base_url=server.url, timeout=10) as http:
        http.get("/keep-alive")  # leaves a keep-alive connection open
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(timeout=15) == 0
