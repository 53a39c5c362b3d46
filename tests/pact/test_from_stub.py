"""Consumer pacts from http-stub services: the interactions the consumer's real calls matched, with
matching rules from the stub's matchers — accepted by the real verifier against the stub itself,
byte-equal across runs, merged across pytest-xdist workers."""

from __future__ import annotations

import base64
import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import httpx
import pytest
from pacthelpers import HERE, pact_cli

from stackrig import Stack
from stackrig.errors import ConfigError
from stackrig.pact import StateRegistry, interactions_from_journal, load_pact, verify_pacts
from stackrig.rig import Resets

MAPPINGS: dict[str, Any] = {
    "product.json": {
        "name": "a product by id",
        "request": {"method": "GET", "urlPathTemplate": "/products/{id}",
                    "headers": {"Accept": {"equalTo": "application/json"}}},
        "response": {"status": 200, "headers": {"Content-Type": "application/json"},
                     "jsonBody": {"id": 1, "name": "Espresso cup", "price_cents": 1200}},
        "metadata": {"pact": {"providerStates": [{"name": "a product with id {id} exists", "params": {"id": 1}}]}},
    },
    "order.json": {
        "request": {"method": "POST", "urlPath": "/orders",
                    "headers": {"Content-Type": {"contains": "json"}, "X-Api-Key": {"matches": "key-[0-9]+"}},
                    "bodyPatterns": [{"equalToJson": {"sku": "${json-unit.any-string}",
                                                      "qty": "${json-unit.any-number}",
                                                      "gift": "${json-unit.any-boolean}"},
                                      "ignoreExtraElements": True}]},
        "response": {"status": 201, "headers": {"Content-Type": "application/json"},
                     "jsonBody": {"sku": "{{jsonPath request.body '$.sku'}}", "state": "accepted"},
                     "transformers": ["response-template"]},
        "metadata": {"pact": {"description": "an order is placed", "providerState": "the shop is open"}},
    },
    "search.json": {
        "request": {"method": "GET", "urlPath": "/search", "queryParameters": {"q": {"matches": "[a-z]+"},
                                                                                 "page": {"equalTo": "1"}}},
        "response": {"status": 200, "headers": {"Content-Type": "text/plain"}, "bodyFileName": "results.txt"},
    },
    "charge.json": {
        "request": {"method": "POST", "urlPath": "/charges", "bodyPatterns": [{"matchesJsonPath": "$.amount_cents"}]},
        "response": {"status": 402, "headers": {"Content-Type": "application/json"}, "jsonBody": {"error": "declined"}},
    },
    "skipped.json": {"request": {"method": "GET", "urlPath": "/internal"}, "response": {"status": 204},
                     "metadata": {"pact": {"skip": True}}},
    "fault.json": {"request": {"method": "GET", "urlPath": "/flaky"}, "response": {"fault": "EMPTY_RESPONSE"}},
    "unused.json": {"request": {"method": "DELETE", "urlPath": "/never"}, "response": {"status": 204}},
}

STACK = """\
[services.catalog]
kind = "http-stub"
mappings = "stubs/catalog"
pact = { consumer = "web", provider = "catalog" }
"""


def _project(folder: Path) -> Path:
    root = folder / "stubs" / "catalog"
    (root / "mappings").mkdir(parents=True)
    (root / "__files").mkdir()
    (root / "__files" / "results.txt").write_text("3 results\n")
    for name, mapping in MAPPINGS.items():
        (root / "mappings" / name).write_text(json.dumps(mapping, indent=2))
    (folder / "stackrig.toml").write_text(STACK)
    return folder


def _consumer(url: str, variant: int = 0) -> None:
    """What the consumer under test sends (two tests' worth)."""
    with httpx.Client(base_url=url) as http:
        assert http.get("/products/1", headers={"Accept": "application/json"}).status_code == 200
        order = http.post("/orders", headers={"X-Api-Key": "key-42"},
                          json={"sku": "cup", "qty": 2, "gift": False, "note": f"variant {variant}"})
        assert order.json() == {"sku": "cup", "state": "accepted"}
        assert http.get("/search", params={"q": "beans", "page": "1"}).text == "3 results\n"
        assert http.post("/charges", json={"amount_cents": 402}).status_code == 402
        assert http.get("/internal").status_code == 204
        with pytest.raises(httpx.HTTPError):
            http.get("/flaky")
        assert http.get("/unmatched").status_code == 404


def _run(folder: Path) -> bytes:
    """One session: two 'tests' with the per-test reset between them, then down."""
    stack = Stack.load(folder / "stackrig.toml")
    with stack as rig:
        resets = Resets(stack.file, rig)
        _consumer(rig["catalog"].url, 0)
        resets.after("test_one")  # the journal is recorded, then emptied
        _consumer(rig["catalog"].url, 1)
        resets.after("test_two")
        resets.close()
    return (folder / "pacts" / "web-catalog.json").read_bytes()


@pytest.mark.slow
def test_the_pact_of_a_session(tmp_path: Path) -> None:
    first = _run(_project(tmp_path / "a"))
    doc = json.loads(first)
    assert doc["consumer"] == {"name": "web"} and doc["provider"] == {"name": "catalog"}
    by_name = {i["description"]: i for i in doc["interactions"]}
    assert sorted(by_name) == sorted(["POST /charges -> 402", "a product by id", "an order is placed",
                                      "GET /search -> 200"])  # not: skipped, faults, unmatched, unused
    product = by_name["a product by id"]
    assert product["providerStates"] == [{"name": "a product with id {id} exists", "params": {"id": 1}}]
    assert product["request"]["path"] == "/products/1"
    assert product["request"]["headers"] == {"Accept": ["application/json"]}
    assert product["request"]["matchingRules"] == {
        "path": {"combine": "AND", "matchers": [{"match": "regex", "regex": "^/products/[^/]+$"}]},
        "header": {"Accept": {"combine": "AND", "matchers": [{"match": "equality"}]}}}
    assert product["response"]["body"]["content"] == {"id": 1, "name": "Espresso cup", "price_cents": 1200}
    order = by_name["an order is placed"]
    assert order["providerStates"] == [{"name": "the shop is open"}]
    assert order["request"]["body"]["content"]["note"] in ("variant 0", "variant 1")  # one exchange, as sent
    rules = order["request"]["matchingRules"]
    assert rules["body"] == {"$.sku": {"combine": "AND", "matchers": [{"match": "type"}]},
                             "$.qty": {"combine": "AND", "matchers": [{"match": "number"}]},
                             "$.gift": {"combine": "AND", "matchers": [{"match": "boolean"}]},
                             "$.note": {"combine": "AND", "matchers": [{"match": "type"}]}}
    assert rules["header"]["X-Api-Key"] == {"combine": "AND", "matchers": [{"match": "regex",
                                                                            "regex": "^(?:key-[0-9]+)$"}]}
    assert rules["header"]["Content-Type"]["matchers"] == [{"match": "include", "value": "json"}]
    assert order["response"]["body"]["content"] == {"sku": "cup", "state": "accepted"}
    assert order["response"]["matchingRules"] == {"body": {"$.sku": {"combine": "AND",
                                                                     "matchers": [{"match": "type"}]}}}
    search = by_name["GET /search -> 200"]
    assert search["request"]["query"] == {"q": ["beans"], "page": ["1"]}
    assert search["request"]["matchingRules"]["query"]["q"]["matchers"] == [{"match": "regex",
                                                                               "regex": "^(?:[a-z]+)$"}]
    assert search["response"]["body"] == {"content": "3 results\n", "contentType": "text/plain", "encoded": False}
    charge = by_name["POST /charges -> 402"]
    assert charge["request"]["matchingRules"]["body"] == {"$.amount_cents": {"combine": "AND",
                                                                             "matchers": [{"match": "type"}]}}
    # the same consumer run again, from scratch: the same bytes
    assert _run(_project(tmp_path / "b")) == first


@pytest.mark.slow
def test_the_stack_file_names_the_pact_folder(tmp_path: Path) -> None:
    """`[stackrig] pact_dir` moves every stub's pact (relative to the stack file)."""
    folder = _project(tmp_path)
    (folder / "stackrig.toml").write_text('[stackrig]\npact_dir = "contracts/out"\n\n' + STACK)
    stack = Stack.load(folder / "stackrig.toml")
    with stack as rig:
        assert rig["catalog"].attributes["pact_file"] == str(folder / "contracts" / "out" / "web-catalog.json")
        resets = Resets(stack.file, rig)
        _consumer(rig["catalog"].url)
        resets.after("test_one")
        resets.close()
    assert len(load_pact(folder / "contracts" / "out" / "web-catalog.json").interactions) == 4
    assert not (folder / "pacts").exists()


@pytest.mark.slow
def test_the_pact_holds_against_the_stub_itself(tmp_path: Path) -> None:
    """The real verifier, real HTTP: the written pact replayed against a stub with the same mappings."""
    folder = _project(tmp_path)
    _run(folder)
    states = StateRegistry()
    states.provider_state("a product with id {id} exists")(lambda id: None)
    states.provider_state("the shop is open")(lambda: None)
    with Stack.load(folder / "stackrig.toml") as rig:
        report = verify_pacts([folder / "pacts" / "web-catalog.json"], url=rig["catalog"].url, states=states,
                              service="catalog")
    assert report.ok, report.render() + "\n" + report.output
    assert len(report.results) == 4


def test_mapping_rules_without_a_server() -> None:
    """The journal of a real WireMock carries the response itself: it is taken as is."""
    body = json.dumps({"name": "x", "tags": ["a"]}).encode()
    event = {
        "wasMatched": True,
        "request": {"method": "PUT", "url": "/items/9?dry=true", "headers": {"Content-Type": "application/json",
                                                                           "User-Agent": "x", "Host": "h:1"},
                    "bodyAsBase64": base64.b64encode(body).decode()},
        "stubMapping": {"id": "1d9ad1a1-9b50-4c52-8b1e-4b1e1e1e1e1e", "request": {
            "method": "PUT", "urlPathPattern": "/items/[0-9]+",
            "queryParameters": {"dry": {"equalTo": "TRUE", "caseInsensitive": True}},
            "bodyPatterns": [{"matchesJsonPath": {"expression": "$.name", "contains": "x"}},
                             {"matchesJsonPath": "$..deep"}, {"equalToJson": {"tags": ["${json-unit.regex}[a-z]"]},
                                                              "ignoreExtraElements": True}]},
            "response": {"status": 200}},
        "response": {"status": 200, "headers": {"Content-Type": "application/json", "Matched-Stub-Id": "z"},
                     "body": '{"ok": true}'},
    }
    (interaction,) = interactions_from_journal([event]).values()
    request = interaction["request"]
    assert request["headers"] == {"Content-Type": ["application/json"]}  # not the noise: User-Agent, Host
    assert request["query"] == {"dry": ["true"]}
    assert request["matchingRules"]["path"]["matchers"] == [{"match": "regex", "regex": "^(?:/items/[0-9]+)$"}]
    assert request["matchingRules"]["query"]["dry"]["matchers"] == [{"match": "regex", "regex": "(?i)^TRUE$"}]
    assert request["matchingRules"]["body"] == {
        "$.name": {"combine": "AND", "matchers": [{"match": "include", "value": "x"}]},
        "$.tags[0]": {"combine": "AND", "matchers": [{"match": "regex", "regex": "[a-z]"}]}}  # $..deep: no rule
    assert interaction["response"] == {"status": 200, "headers": {"Content-Type": ["application/json"]},
                                       "body": {"content": {"ok": True}, "contentType": "application/json",
                                                "encoded": False}}
    assert interaction["description"] == "PUT /items/[0-9]+ -> 200"
    unmatched = {**event, "wasMatched": False}
    assert interactions_from_journal([unmatched]) == {}


def test_the_pact_table_is_checked(tmp_path: Path) -> None:
    from stackrig.services import load_stack

    for table, message in (('{ consumer = "", provider = "p" }', "pact.consumer must name the consumer"),
                           ('{ consumer = "c" }', "provider"),
                           ('{ consumer = "c", provider = "p", file = "x.txt" }', "a file name ending in .json"),
                           ('{ consumer = "c", provider = "p", colour = "red" }', "colour")):
        path = tmp_path / "stackrig.toml"
        path.write_text(f'[services.s]\nkind = "http-stub"\npact = {table}\n')
        with pytest.raises(ConfigError, match=message):
            load_stack(path)


@pytest.mark.slow
def test_stackrig_run_records_at_the_end_of_the_run(tmp_path: Path) -> None:
    """No test runner, no reset: the journal is recorded when the stub stops at the end of the run
    (and `STACKRIG_PACT_DIR` moves the file)."""
    folder = _project(tmp_path)
    client = folder / "client.py"
    client.write_text(textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(HERE)!r})
        import pytest, test_from_stub
        test_from_stub._consumer(os.environ["CATALOG_URL"])
        """))
    stack = folder / "stackrig.toml"
    stack.write_text(stack.read_text() + 'export = { CATALOG_URL = "${url}" }\n')
    done = pact_cli("run", "--", sys.executable, str(client), cwd=folder, env={"STACKRIG_PACT_DIR": "contracts"})
    assert done.returncode == 0, done.stdout + done.stderr
    pact = load_pact(folder / "contracts" / "web-catalog.json")
    assert len(pact.interactions) == 4
    assert not (folder / "pacts").exists()


@pytest.mark.slow
def test_xdist_workers_merge_into_one_file(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests on two workers, each worker with its own stub and half of the interactions: the file has
    every interaction once, and the same bytes as the run without xdist."""
    _project(pytester.path)
    pytester.makepyfile(test_consumer=textwrap.dedent("""
        import os, httpx, pytest

        @pytest.mark.parametrize("n", range(4))
        def test_calls(rig, n):
            worker = os.environ.get("PYTEST_XDIST_WORKER")  # gw0 only reads, gw1 only writes: only the
            with httpx.Client(base_url=rig["catalog"].url) as http:  # merged file has all four
                if worker in (None, "gw0"):
                    http.get("/products/1", headers={"Accept": "application/json"})
                    http.get("/search", params={"q": "beans", "page": "1"})
                if worker in (None, "gw1"):
                    http.post("/orders", headers={"X-Api-Key": "key-1"}, json={"sku": "cup", "qty": 1, "gift": True})
                    http.post("/charges", json={"amount_cents": 1})
        """))
    monkeypatch.delenv("STACKRIG_STATE", raising=False)
    monkeypatch.delenv("STACKRIG_PACT_SESSION", raising=False)
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)  # when this suite itself runs under xdist
    pact = pytester.path / "pacts" / "web-catalog.json"
    files = []
    for extra in (["-n", "2"], ["-p", "no:xdist"]):
        if pact.exists():
            pact.unlink()
        result = pytester.run(sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", *extra, timeout=300)
        assert result.ret == 0, str(result.stdout) + str(result.stderr)
        assert "stackrig: pact files written: pacts/web-catalog.json (4 interactions)" in result.stdout.str()
        if "-n" in extra:
            parts = list((pytester.path / ".stackrig" / "pact-parts").glob("web-catalog-*/*/*.json"))
            assert len(parts) == 2 and all(len(json.loads(p.read_text())["interactions"]) == 2 for p in parts)
        files.append(pact.read_bytes())
    doc = json.loads(files[0])
    assert sorted(i["description"] for i in doc["interactions"]) == sorted(
        ["a product by id", "an order is placed", "GET /search -> 200", "POST /charges -> 402"])
    assert files[0] == files[1]
