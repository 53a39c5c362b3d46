"""Each check finds its class of flaw in the deliberately vulnerable app — with the right kind,
operation and parameter, over real HTTP — and finds nothing in its fixed twin.

The apps (tests/scan/apps) run as real uvicorn processes of the session's stack, beside a real
PostgreSQL for the blind, time-based SQL injection; the scans are shared by the tests below
(conftest.py)."""

from __future__ import annotations

import json
import shutil
import subprocess

import httpx
import jwt
import pytest
from scanhelpers import FIXED_SECRET

from stackrig.scan import KINDS, Finding, ScanResult
from stackrig.scan._auth import jwt_variants

pytestmark = pytest.mark.slow


def one(result: ScanResult, kind: str, operation: str, parameter: str | None = None,
        location: str | None = None) -> Finding:
    """The finding of `kind` on `operation` (and `parameter`/`location`), or a failure listing all."""
    found = [f for f in result.findings if f.kind == kind and f.operation == operation
             and (parameter is None or f.parameter == parameter) and (location is None or f.location == location)]
    assert found, f"no {kind} finding on {operation} {parameter or ''}:\n{result.render()}"
    return found[0]


def test_error_based_sql_injection_in_a_query_a_path_and_a_cookie_parameter(vulnerable_scan: ScanResult) -> None:
    for operation, parameter, location in (("GET /items", "name", "query"), ("GET /items/{item_id}", "item_id", "path"),
                                           ("GET /prefs", "theme", "cookie")):
        found = one(vulnerable_scan, "sql-injection", operation, parameter, location)
        assert found.severity == "high"
        assert found.title.startswith("SQLite error")
        assert "sqlite3.OperationalError" in found.evidence or "unrecognized token" in found.evidence
        assert found.payload is not None and found.payload.endswith(("'", '"', "')", "\\"))


def test_sql_injection_behind_a_generic_error_page_from_the_5xx_alone(vulnerable_scan: ScanResult) -> None:
    found = one(vulnerable_scan, "sql-injection", "GET /orders", "x-customer", "header")
    assert "balanced twin" in found.title
    assert found.payload == "alice'"
    assert "answered 500" in found.evidence and "answered 200" in found.evidence


def test_blind_time_based_sql_injection_in_a_json_body_field(vulnerable_scan: ScanResult) -> None:
    found = one(vulnerable_scan, "sql-injection", "POST /reports", "customer", "body")
    assert found.title.startswith("PostgreSQL time delay")
    assert found.payload is not None and "pg_sleep(1)" in found.payload
    assert "asked for 0 s" in found.evidence  # the delay follows the payload's number
    assert not [f for f in vulnerable_scan.findings if f.operation == "POST /reports" and f.parameter == "year"]


def test_reflected_xss_in_an_html_page(vulnerable_scan: ScanResult) -> None:
    found = one(vulnerable_scan, "xss", "GET /greet", "name", "query")
    assert found.payload is not None and "<script>alert('stk" in found.payload
    assert "text/html" in found.evidence and "<script>alert(" in found.evidence
    assert [f.operation for f in vulnerable_scan.of_kind("xss")] == ["GET /greet"]  # JSON echoes are no XSS


def test_path_traversal_in_a_file_download(vulnerable_scan: ScanResult) -> None:
    found = one(vulnerable_scan, "path-traversal", "GET /files", "filename", "query")
    assert "root:" in found.evidence and ":0:0:" in found.evidence
    assert found.payload is not None and "etc" in found.payload


def test_cors_any_origin_with_credentials_simple_and_preflight(vulnerable_scan: ScanResult) -> None:
    cors = vulnerable_scan.of_kind("cors")
    assert {f.parameter for f in cors} == {"Origin", "Origin (preflight)"}
    for f in cors:
        assert f.severity == "high" and "arbitrary origin is allowed, with credentials" in f.title
        assert "Access-Control-Allow-Origin: https://stackrig-scan.evil.example" in f.evidence
        assert "Access-Control-Allow-Credentials: true" in f.evidence
    assert len(cors) == 2  # one policy: reported once per request type, not per operation


def test_missing_auth_without_credentials_and_with_a_tampered_token(vulnerable_scan: ScanResult) -> None:
    bare = one(vulnerable_scan, "missing-auth", "GET /admin/users", "Authorization")
    assert "without credentials" in bare.title and bare.severity == "high"
    assert "Authorization" not in bare.curl  # the request that proves it carries no credentials
    tampered = one(vulnerable_scan, "missing-auth", "GET /account", "Authorization", "header")
    assert "flipped signature byte" in tampered.title
    assert any("no expired-token variant" in note for note in vulnerable_scan.notes)  # no key given: said so
    assert {f.operation for f in vulnerable_scan.of_kind("missing-auth")} == {"GET /admin/users", "GET /account"}


def test_missing_rate_limit_on_login(vulnerable_scan: ScanResult) -> None:
    found = one(vulnerable_scan, "rate-limit", "POST /login")
    assert found.severity == "medium" and found.parameter == "password"
    assert "401 ×25" in found.evidence and "no 429" in found.evidence


def test_server_errors_on_a_wrong_type_and_on_malformed_json(vulnerable_scan: ScanResult) -> None:
    stats = one(vulnerable_scan, "server-error", "GET /stats", "limit", "query")
    assert stats.severity == "low" and stats.evidence.startswith("integer expected")
    cart = [f for f in vulnerable_scan.of_kind("server-error") if f.operation == "POST /cart"]
    assert cart and {f.parameter for f in cart} >= {None, "qty"}  # the malformed body, and qty as a string
    assert all(f.severity == "low" for f in vulnerable_scan.of_kind("server-error"))


def test_every_kind_is_found_and_every_finding_is_complete(vulnerable_scan: ScanResult) -> None:
    assert [k for k in KINDS if vulnerable_scan.of_kind(k)] == list(KINDS)
    data = json.loads(json.dumps(vulnerable_scan.to_json()))
    assert set(data) == {"findings"} and len(data["findings"]) == len(vulnerable_scan.findings)
    for item in data["findings"]:
        assert {"kind", "severity", "operation", "parameter", "payload", "evidence", "curl"} <= set(item)
        assert item["kind"] in KINDS and item["severity"] in ("high", "medium", "low")
        assert item["curl"].startswith("curl ") and item["evidence"]
        assert Finding.from_json(item).to_json() == item
    assert not vulnerable_scan.ok("high") and not vulnerable_scan.ok("low")


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_the_curl_lines_reproduce_the_findings(vulnerable_scan: ScanResult) -> None:
    expect = {("xss", "GET /greet"): "<script>alert('stk", ("path-traversal", "GET /files"): "root:",
              ("sql-injection", "GET /items"): "sqlite3.OperationalError",
              ("sql-injection", "GET /prefs"): "sqlite3.OperationalError",
              ("missing-auth", "GET /admin/users"): "HTTP/1.1 200",
              ("cors", "GET /files"): "access-control-allow-credentials: true"}
    checked = 0
    for f in vulnerable_scan.findings:
        want = expect.get((f.kind, f.operation))
        if want is None:
            continue
        out = subprocess.run(["bash", "-c", f.curl], capture_output=True, text=True, timeout=30).stdout
        assert want in out, f"{f.curl}\n{out[:500]}"
        checked += 1
    assert checked >= len(expect)


def test_the_fixed_twin_has_no_findings(fixed_scan: ScanResult) -> None:
    assert fixed_scan.findings == [], fixed_scan.render()
    assert fixed_scan.ok("low")
    assert fixed_scan.operations == 13 and fixed_scan.requests > 200
    assert not any("expired-token" in note for note in fixed_scan.notes)  # the expired copy was tried


def test_the_token_variants_are_refused_by_the_fixed_twin_and_accepted_by_the_vulnerable_app(
        scan_stack, tokens: dict[str, str]) -> None:  # noqa: ANN001
    fixed, vulnerable = scan_stack.urls["fixed"], scan_stack.urls["vulnerable"]
    valid = tokens["fixed"]
    variants = dict(jwt_variants(valid, FIXED_SECRET))
    assert set(variants) == {"a JWT with a flipped signature byte", "the JWT re-made with alg: none",
                             "a validly signed copy with exp in the past"}
    with pytest.raises(jwt.ExpiredSignatureError):  # signed right, and expired
        jwt.decode(variants["a validly signed copy with exp in the past"], FIXED_SECRET, algorithms=["HS256"])
    assert httpx.get(f"{fixed}/account", headers={"Authorization": f"Bearer {valid}"}).status_code == 200
    for bad in variants.values():
        assert httpx.get(f"{fixed}/account", headers={"Authorization": f"Bearer {bad}"}).status_code == 401
        assert httpx.get(f"{vulnerable}/account", headers={"Authorization": f"Bearer {bad}"}).status_code == 200
