"""The 404 body of an unmatched request: WireMock's plain-text diff table against the closest stub."""

from __future__ import annotations

import httpx
from stubhelpers import StubProcess

from stackrig.stub import StubClient, get, post

WIDTH = 119
MIDDLE = WIDTH // 2 - 1  # 58: the left column is padded to 59 characters, then "|"


def _row(left: str, right: str = "", reason: str | None = None) -> str:
    line = left.ljust(MIDDLE + 1) + "|"
    if right:
        line += " " + (right.ljust(MIDDLE - 6) + "<<<<< " + reason if reason else right)
    elif reason:
        line += "".ljust(MIDDLE - 5) + "<<<<< " + reason
    return line


def _banner() -> list[str]:
    pad = " " * (MIDDLE - len("Request was not matched") // 2)
    return [
        "",
        pad + "Request was not matched",
        pad + "=" * len("Request was not matched"),
        "",
        "-" * WIDTH,
        "|" + " Closest stub".ljust(MIDDLE) + "|" + " Request".ljust(MIDDLE) + "|",
        "-" * WIDTH,
        _row(""),
    ]


def _table(*rows: str) -> str:
    return "\n".join([*_banner(), *rows, _row(""), "-" * WIDTH]) + "\n"


def _fresh(server: StubProcess) -> StubClient:
    client = StubClient(server.url)
    client.reset()
    client.remove_all()
    return client


def test_wrong_url_header_and_json_body_are_marked(shared_stub: StubProcess) -> None:
    with _fresh(shared_stub) as stub:
        stub.add_mapping(
            {
                "name": "Create a widget",
                "request": {
                    "method": "POST",
                    "url": "/widgets",
                    "headers": {"X-Api-Key": {"contains": "secret"}, "Accept": {"equalTo": "application/json"}},
                    "bodyPatterns": [{"equalToJson": {"size": 3, "tags": ["a"]}}],
                },
                "response": {"status": 201},
            }
        )
    resp = httpx.post(
        shared_stub.url + "/widget",
        content=b'{"size": 4, "tags": ["a"]}',
        headers={"X-Api-Key": "wrong", "Accept": "application/json", "Content-Type": "application/json"},
        timeout=10,
    )
    assert resp.status_code == 404
    assert resp.headers["content-type"] == "text/plain;charset=UTF-8"
    assert resp.text == _table(
        _row("Create a widget"),
        _row(""),
        _row("POST", "POST"),
        _row("/widgets", "/widget", "URL does not match"),
        _row(""),
        _row("X-Api-Key [contains] : secret", "X-Api-Key: wrong", "Header does not match"),
        _row("Accept: application/json", "Accept: application/json"),
        _row(""),
        _row("[equalToJson]", "", "Body does not match"),
        _row("{", "{"),
        _row('  "size" : 3,', '  "size" : 4,'),
        _row('  "tags" : [ "a" ]', '  "tags" : [ "a" ]'),
        _row("}", "}"),
    )


def test_wrong_method_query_and_missing_header(shared_stub: StubProcess) -> None:
    with _fresh(shared_stub) as stub:
        stub.on(get("/users").query(page="1").header("X-Tenant", "acme")).reply(200)
    resp = httpx.delete(shared_stub.url + "/users?page=2", timeout=10)
    assert resp.status_code == 404
    assert resp.text == _table(
        _row("GET", "DELETE", "HTTP method does not match"),
        _row("[path] /users", "/users?page=2"),
        _row(""),
        _row("X-Tenant: acme", "", "Header is not present"),
        _row(""),
        _row("Query: page = 1", "page: 2", "Query does not match"),
        _row(""),
    )


def test_a_matching_body_pattern_is_left_out_and_json_path_shows_what_it_found(shared_stub: StubProcess) -> None:
    with _fresh(shared_stub) as stub:
        stub.on(post("/orders").body_contains("order").json_path("$.total", "10")).reply(201)
    resp = httpx.post(shared_stub.url + "/orders", content=b'{"order": 1, "total": 12}', timeout=10)
    assert resp.status_code == 404
    assert resp.text == _table(
        _row("POST", "POST"),
        _row("[path] /orders", "/orders"),
        _row(""),
        _row("$.total [equalTo] 10", "12", "Body does not match"),
    )


def test_scenario_in_another_state_is_the_reason(shared_stub: StubProcess) -> None:
    with _fresh(shared_stub) as stub:
        stub.add_mapping(
            {
                "request": {"method": "GET", "url": "/cart"},
                "response": {"status": 200},
                "scenarioName": "checkout",
                "requiredScenarioState": "Paid",
            }
        )
    resp = httpx.get(shared_stub.url + "/cart", timeout=10)
    assert resp.status_code == 404
    assert resp.text == _table(
        _row("GET", "GET"),
        _row("/cart", "/cart"),
        _row(""),
        _row("[Scenario 'checkout' state: Paid]", "[Scenario 'checkout' state: Started]", "Scenario does not match"),
    )


def test_console_width_header_narrows_the_table_and_long_values_wrap(shared_stub: StubProcess) -> None:
    with _fresh(shared_stub) as stub:
        stub.on(get("/a/rather/long/path/that/will/not/fit/in/a/narrow/column")).reply(200)
    resp = httpx.get(shared_stub.url + "/short", headers={"X-WireMock-Console-Width": "40"}, timeout=10)
    lines = resp.text.split("\n")
    assert lines[1] == " " * (19 - 11) + "Request was not matched"
    assert lines[4] == "-" * 40
    # columns of 18: "[path] <url>" breaks at the space, then the URL is cut every 18 characters;
    # the reason stays on the first line
    assert lines[9] == "[path]".ljust(20) + "| " + "/short".ljust(13) + "<<<<< URL does not match"
    assert lines[10] == "/a/rather/long/pat".ljust(20) + "|"
    assert lines[11] == "h/that/will/not/fi".ljust(20) + "|"
    assert lines[12] == "t/in/a/narrow/colu".ljust(20) + "|"
    assert lines[13] == "mn".ljust(20) + "|"
    assert all(len(line.split("|")[0]) == 20 for line in lines[5:-2] if "|" in line and not line.startswith("|"))


def test_no_stubs_and_head_requests(shared_stub: StubProcess) -> None:
    _fresh(shared_stub).close()
    resp = httpx.get(shared_stub.url + "/anything", timeout=10)
    assert resp.status_code == 404
    assert resp.text == "No response could be served as there are no stub mappings in this WireMock instance."
    with StubClient(shared_stub.url) as stub:
        stub.on(get("/x")).reply(200)
    head = httpx.head(shared_stub.url + "/y", timeout=10)
    assert head.status_code == 404
    assert head.content == b""
