"""Stubs by metadata (``/__admin/mappings/find-by-metadata``, ``remove-by-metadata``) and
``/__admin/mappings/reset``, through raw admin calls, python-wiremock's calls and ``StubClient``."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from stubhelpers import StartStub, StubProcess

from stackrig.stub import StubAdminError, StubClient, containing, equal_to, get, matching_json_path

# What python-wiremock (wiremock/python-wiremock, Mappings.delete_mapping_by_metadata) sends.
_PYTHON_WIREMOCK_HEADERS = {
    "Accept": "application/json",
    "Content-Type": "application/json",
    "user-agent": "python_wiremock/2.7.0",
}


def _mapping(url: str, metadata: dict[str, object] | None) -> dict[str, object]:
    out: dict[str, object] = {"request": {"method": "GET", "url": url}, "response": {"status": 200, "body": url}}
    if metadata is not None:
        out["metadata"] = metadata
    return out


@pytest.fixture
def tagged(shared_stub: StubProcess) -> StubProcess:
    with StubClient(shared_stub.url) as stub:
        stub.reset()
        stub.remove_all()
        stub.add_mapping(_mapping("/one", {"tags": ["checkout", "slow"], "owner": {"team": "payments"}}))
        stub.add_mapping(_mapping("/two", {"tags": ["search"], "outer": {"inner": 42}}))
        stub.add_mapping(_mapping("/three", None))
    return shared_stub


def _urls(mappings: list[dict[str, object]]) -> list[object]:
    return sorted(m["request"]["url"] for m in mappings)  # type: ignore[index]


def test_find_by_metadata_json_path_contains(tagged: StubProcess) -> None:
    resp = tagged.admin(
        "POST", "/mappings/find-by-metadata", {"matchesJsonPath": {"expression": "$.tags", "contains": "checkout"}}
    )
    assert resp.status_code == 200
    body = resp.json()
    assert _urls(body["mappings"]) == ["/one"]
    assert body["meta"] == {"total": 1}
    assert body["mappings"][0]["metadata"]["owner"] == {"team": "payments"}


def test_find_by_metadata_json_path_exists_and_equal_to_json(tagged: StubProcess) -> None:
    exists = tagged.admin("POST", "/mappings/find-by-metadata", {"matchesJsonPath": "$.outer"}).json()
    assert _urls(exists["mappings"]) == ["/two"]
    nested = {"matchesJsonPath": {"expression": "$.outer.inner", "equalTo": "42"}}
    assert _urls(tagged.admin("POST", "/mappings/find-by-metadata", nested).json()["mappings"]) == ["/two"]
    whole = {"equalToJson": {"owner": {"team": "payments"}}, "ignoreExtraElements": True}
    assert _urls(tagged.admin("POST", "/mappings/find-by-metadata", whole).json()["mappings"]) == ["/one"]
    none = tagged.admin("POST", "/mappings/find-by-metadata", {"matchesJsonPath": "$.nothing"}).json()
    assert none == {"mappings": [], "meta": {"total": 0}}


def test_find_by_metadata_matches_the_metadata_as_wiremock_prints_it(tagged: StubProcess) -> None:
    # WireMock matches against Jackson's pretty print: `"key" : value`, arrays on one line
    found = tagged.admin("POST", "/mappings/find-by-metadata", {"contains": '"tags" : [ "search" ]'}).json()
    assert _urls(found["mappings"]) == ["/two"]
    # a stub without metadata is the text "null"
    assert _urls(tagged.admin("POST", "/mappings/find-by-metadata", {"equalTo": "null"}).json()["mappings"]) == [
        "/three"
    ]


def test_remove_by_metadata_as_python_wiremock_calls_it(tagged: StubProcess) -> None:
    pattern = {"matchesJsonPath": {"expression": "$.owner.team", "equalTo": "payments"}}
    resp = httpx.post(
        tagged.url + "/__admin/mappings/remove-by-metadata",
        content=json.dumps(pattern),
        headers=_PYTHON_WIREMOCK_HEADERS,
        timeout=10,
    )
    assert resp.status_code == 200
    assert resp.json() == {}
    remaining = tagged.admin("GET", "/mappings").json()["mappings"]
    assert _urls(remaining) == ["/three", "/two"]
    assert httpx.get(tagged.url + "/one", timeout=10).status_code == 404
    assert httpx.get(tagged.url + "/two", timeout=10).text == "/two"


def test_bad_metadata_patterns_get_wiremock_errors(tagged: StubProcess) -> None:
    for payload in ({"equalsTo": "x"}, ["not", "a", "matcher"], {"binaryEqualTo": "AAE="}):
        resp = tagged.admin("POST", "/mappings/find-by-metadata", payload)
        assert resp.status_code == 422, payload
        assert resp.json()["errors"][0]["code"] == 10
    empty = httpx.post(tagged.url + "/__admin/mappings/remove-by-metadata", timeout=10)
    assert empty.status_code == 422
    assert len(tagged.admin("GET", "/mappings").json()["mappings"]) == 3  # nothing removed


def test_client_find_and_remove_by_metadata(tagged: StubProcess) -> None:
    with StubClient(tagged.url) as stub:
        assert _urls(stub.find_by_metadata(matching_json_path("$.tags", containing("slow")))) == ["/one"]
        assert _urls(stub.find_by_metadata({"matchesJsonPath": "$.tags"})) == ["/one", "/two"]
        stub.remove_by_metadata(matching_json_path("$.tags", equal_to("search")))
        assert _urls(stub.mappings()) == ["/one", "/three"]
        with pytest.raises(StubAdminError, match="422"):
            stub.find_by_metadata({"nonsense": 1})


def test_reset_mappings_goes_back_to_the_files(start_stub: StartStub, tmp_path: Path) -> None:
    (tmp_path / "mappings").mkdir()
    (tmp_path / "mappings" / "file.json").write_text(json.dumps(_mapping("/from-file", {"source": "file"})))
    server = start_stub(tmp_path)
    with StubClient(server.url) as stub, httpx.Client(base_url=server.url, timeout=10) as http:
        stub.on(get("/from-api")).reply(200, body="api")
        stub.add_mapping(
            {
                "request": {"method": "GET", "url": "/from-file"},
                "response": {"status": 200, "body": "replaced"},
                "priority": 1,
                "scenarioName": "s",
                "newScenarioState": "next",
            }
        )
        assert http.get("/from-file").text == "replaced"
        assert stub.scenarios()[0]["state"] == "next"
        stub.remove_by_metadata({"matchesJsonPath": "$.source"})  # removes the file's stub, not the file
        assert http.get("/from-api").text == "api"
        resp = httpx.post(server.url + "/__admin/mappings/reset", headers=_PYTHON_WIREMOCK_HEADERS, timeout=10)
        assert resp.status_code == 200
        assert [m["request"]["url"] for m in stub.mappings()] == ["/from-file"]
        assert http.get("/from-file").text == "/from-file"
        assert http.get("/from-api").status_code == 404
        assert stub.scenarios() == []
        stub.reset_mappings()  # as WireMock's resetToDefaultMappings, the journal is emptied too
        assert stub.requests() == []
        assert _urls(stub.find_by_metadata(matching_json_path("$.source", "file"))) == ["/from-file"]
