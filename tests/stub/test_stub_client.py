"""The Python API (StubClient and builders) against a real server process over real HTTP."""

from __future__ import annotations

import time
import types
from collections.abc import Iterator

import httpx
import pytest
from stubhelpers import StubProcess

import stackrig.stub as stub_pkg
from stackrig.errors import StackrigError
from stackrig.stub import (
    StubAdminError,
    StubClient,
    VerificationFailed,
    any_request,
    containing,
    delete,
    get,
    matching,
    post,
    put,
)


@pytest.fixture
def stub(shared_stub: StubProcess) -> Iterator[StubClient]:
    client = StubClient(shared_stub.url)
    client.reset()
    yield client
    client.close()


@pytest.fixture
def http(shared_stub: StubProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shared_stub.url, timeout=10.0) as client:
        yield client


def test_public_surface_matches_all() -> None:
    exported = {
        name
        for name, value in vars(stub_pkg).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType) and name != "annotations"
    }
    assert exported == set(stub_pkg.__all__)


def test_reply_with_json_and_match_on_json_body(stub: StubClient, http: httpx.Client) -> None:
    stub.on(post("/charges").json_body({"amount": 100})).reply(201, json={"id": "ch_1"})
    ok = http.post("/charges", json={"amount": 100})
    assert ok.status_code == 201
    assert ok.json() == {"id": "ch_1"}
    assert ok.headers["content-type"] == "application/json"
    assert http.post("/charges", json={"amount": 5}).status_code == 404


def test_query_header_and_body_matchers(stub: StubClient, http: httpx.Client) -> None:
    spec = (
        put("/items/7").query(mode="fast", page=matching("[0-9]+")).header("X-Token", "secret").body_contains("needle")
    )
    stub.on(spec).reply(200, body="updated", headers={"X-Result": "yes"})
    good = http.put("/items/7?mode=fast&page=2", headers={"X-Token": "secret"}, content="hay needle")
    assert (good.status_code, good.text, good.headers["x-result"]) == (200, "updated", "yes")
    assert http.put("/items/7?mode=fast&page=x", headers={"X-Token": "secret"}, content="needle").status_code == 404
    assert http.put("/items/7?mode=fast&page=2", content="needle").status_code == 404
    assert http.put("/items/7?mode=fast&page=2", headers={"X-Token": "secret"}, content="hay").status_code == 404


def test_url_matching_and_any_method(stub: StubClient, http: httpx.Client) -> None:
    stub.on(any_request().url_matching("/api/v[0-9]+/.*")).reply(204)
    assert http.get("/api/v2/users").status_code == 204
    assert http.delete("/api/v1/x?y=1").status_code == 204
    assert http.get("/api/vx/users").status_code == 404


def test_sequence_then_repeats_the_last(stub: StubClient, http: httpx.Client) -> None:
    stub.on(get("/flaky")).reply(503, body="busy").then(500).then(200, json={"ok": True})
    got = [http.get("/flaky").status_code for _ in range(5)]
    assert got == [503, 500, 200, 200, 200]
    stub.reset_scenarios()
    assert http.get("/flaky").status_code == 503


def test_sequence_can_end_in_a_fault(stub: StubClient, http: httpx.Client) -> None:
    stub.on(get("/once")).reply(200, body="first").then(fault="EMPTY_RESPONSE")
    assert http.get("/once").text == "first"
    with pytest.raises(httpx.RemoteProtocolError):
        http.get("/once")


def test_delay_from_python(stub: StubClient, http: httpx.Client) -> None:
    stub.on(get("/slow")).reply(200, body="late", delay_ms=300)
    started = time.monotonic()
    assert http.get("/slow").text == "late"
    assert time.monotonic() - started >= 0.3  # a lower bound only: never flaky on a slow machine


def test_template_reply(stub: StubClient, http: httpx.Client) -> None:
    stub.on(get("/users/{id}")).reply(200, body="user {{request.path.id}} q={{request.query.q}}", template=True)
    assert http.get("/users/42?q=x").text == "user 42 q=x"


def test_verify_passes_on_the_right_count(stub: StubClient, http: httpx.Client) -> None:
    stub.on(post("/charges")).reply(201)
    http.post("/charges", content="{}")
    stub.verify(post("/charges"), times=1)
    stub.verify(post("/charges"), at_least=1)
    stub.verify(delete("/charges"), times=0)


def test_verify_failure_shows_closest_requests_and_differences(stub: StubClient, http: httpx.Client) -> None:
    stub.on(any_request().url_matching(".*")).reply(200)
    http.post("/charge", json={"amount": 100}, headers={"X-Token": "t"})
    http.get("/unrelated/thing")
    with pytest.raises(VerificationFailed) as info:
        stub.verify(post("/charges").json_body({"amount": 100}).header("X-Token", "secret"), times=1)
    err = info.value
    assert isinstance(err, AssertionError) and isinstance(err, StackrigError)
    text = str(err)
    assert "expected exactly 1 request(s) matching POST /charges" in text
    assert "received 0 such requests" in text
    assert "1. POST /charge" in text
    assert "URL (urlPath): expected /charges, got /charge" in text
    assert "header X-Token: expected equalTo 'secret', got t" in text
    assert "/unrelated/thing" not in text  # too far away to be a near miss
    assert "fix:" in text


def test_verify_failure_on_too_many_lists_the_matching_requests(stub: StubClient, http: httpx.Client) -> None:
    stub.on(get("/ping")).reply(200)
    http.get("/ping")
    http.get("/ping")
    with pytest.raises(VerificationFailed) as info:
        stub.verify(get("/ping"), times=1)
    text = str(info.value)
    assert "received 2 such requests" in text
    assert "the matching requests:\n    - GET /ping\n    - GET /ping" in text


def test_verify_failure_with_an_empty_journal(stub: StubClient) -> None:
    with pytest.raises(VerificationFailed, match=r"no received request comes close \(the journal holds 0"):
        stub.verify(get("/never"))


def test_requests_are_listed_oldest_first(stub: StubClient, http: httpx.Client) -> None:
    stub.on(post("/a")).reply(200)
    http.post("/a", content="one")
    http.get("/b")
    http.post("/a", content="two", headers={"X-N": "2"})
    everything = stub.requests()
    assert [(r.method, r.url, r.matched) for r in everything] == [
        ("POST", "/a", True),
        ("GET", "/b", False),
        ("POST", "/a", True),
    ]
    posts = stub.requests(post("/a").body_contains("tw"))
    assert len(posts) == 1 and posts[0].text == "two" and posts[0].header("x-n") == "2"
    assert [r.url for r in stub.unmatched()] == ["/b"]
    assert stub.count(post("/a")) == 2


def test_reset_forgets_stubs_and_requests(stub: StubClient, http: httpx.Client) -> None:
    stub.on(get("/r")).reply(200)
    http.get("/r")
    stub.reset()
    assert stub.mappings() == []
    assert stub.requests() == []
    assert http.get("/r").status_code == 404


def test_stub_remove_and_raw_mapping(stub: StubClient, http: httpx.Client) -> None:
    raw = stub.add_mapping({"request": {"method": "GET", "url": "/raw"}, "response": {"status": 202}})
    assert http.get("/raw").status_code == 202
    raw.remove()
    assert http.get("/raw").status_code == 404


def test_admin_error_is_a_readable_stackrig_error(stub: StubClient) -> None:
    with pytest.raises(StubAdminError) as info:
        stub.add_mapping(
            {"request": {"method": "GET", "url": "/x", "bodyPatterns": [{"equalsTo": "x"}]}, "response": {}}
        )
    text = str(info.value)
    assert "answered 422" in text
    assert "$.request.bodyPatterns[0]: unknown matcher 'equalsTo' (did you mean 'equalTo'?)" in text
    assert info.value.status == 422


def test_unreachable_server_error_says_what_to_do() -> None:
    with StubClient("http://127.0.0.1:9", timeout=2) as client, pytest.raises(StubAdminError) as info:
        client.mappings()
    assert "cannot reach the stub server's admin API at http://127.0.0.1:9/__admin" in str(info.value)
    assert "python -m stackrig.stub" in str(info.value)


def test_matcher_and_spec_descriptions() -> None:
    spec = post("/x").query(q=containing("a")).header("H", "v").json_body({"a": 1})
    assert str(spec) == 'POST /x (query q contains "a"; header H equalTo "v"; body equalToJson {"a": 1})'
    assert repr(matching("a+")) == "matching('a+')"
    with pytest.raises(TypeError, match="expected a string or a Matcher"):
        get("/x").header("H", 5)  # type: ignore[arg-type]
