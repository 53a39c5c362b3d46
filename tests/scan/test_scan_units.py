"""The scan engine's parts without a server: arguments, schema parsing, benign values, token variants,
curl lines, login and file-parameter detection, results, and the payload lists."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import shlex
from pathlib import Path

import pytest

from stackrig.errors import StackrigError
from stackrig.scan import (
    KINDS,
    Finding,
    ScanArgumentError,
    ScanResult,
    SchemaError,
    parse_auth,
    parse_checks,
    parse_severity,
    run_scan,
)
from stackrig.scan._auth import is_jwt, jwt_variants
from stackrig.scan._http import curl_line
from stackrig.scan._inject import looks_like_a_path
from stackrig.scan._payloads import (
    file_signatures,
    sql_error_payloads,
    sql_errors,
    sql_time_payloads,
    traversal_payloads,
    xss_payloads,
)
from stackrig.scan._ratelimit import looks_like_login
from stackrig.scan._schema import Operation, Param, parse_schema
from stackrig.scan._values import benign, wrong_type

PAYLOADS = Path(__file__).resolve().parents[2] / "src" / "stackrig" / "scan" / "payloads"


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def hs256(claims: dict[str, object], key: bytes) -> str:
    head = b64({"alg": "HS256", "typ": "JWT"})
    body = b64(claims)
    sig = hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{base64.urlsafe_b64encode(sig).rstrip(b'=').decode()}"


# -- arguments -------------------------------------------------------------------------------------
def test_auth_headers_parse() -> None:
    assert parse_auth("Authorization: Bearer a.b.c") == {"Authorization": "Bearer a.b.c"}
    assert parse_auth(["X-Api-Key:k1", "Cookie: s=1; t=2"]) == {"X-Api-Key": "k1", "Cookie": "s=1; t=2"}
    assert parse_auth({"X-Time": "12:30"}) == {"X-Time": "12:30"}  # a colon in the value stays
    assert parse_auth(None) == {}


@pytest.mark.parametrize(("value", "why"), [
    ("Bearer abc", "no ':' between the header's name and value"),
    (": abc", "the header name is empty"),
    ("X-Key:", "the value is empty"),
    ("X Key: v", "characters a header name cannot have"),
    ("X-Key: a\nb", "the value has a line break"),
])
def test_bad_auth_says_why(value: str, why: str) -> None:
    with pytest.raises(ScanArgumentError, match="is not a header") as caught:
        parse_auth(value)
    assert why in str(caught.value) and 'fix: write it as "Name: value"' in str(caught.value)
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, StackrigError)


def test_severities_and_checks() -> None:
    assert parse_severity("HIGH") == "high" and parse_severity(" low ") == "low"
    with pytest.raises(ScanArgumentError, match="unknown severity 'urgent': use one of high, medium, low"):
        parse_severity("urgent")
    assert parse_checks(None) == KINDS == parse_checks("all")
    assert parse_checks(["xss,cors", "sql-injection"]) == ("sql-injection", "xss", "cors")
    with pytest.raises(ScanArgumentError, match=r"unknown check: sql-injections \(did you mean sql-injection\?\)"):
        parse_checks("sql-injections")
    with pytest.raises(ScanArgumentError, match="no checks named"):
        parse_checks(" , ")


def test_run_scan_refuses_what_it_cannot_use_before_sending_anything() -> None:
    with pytest.raises(ScanArgumentError, match="not an http"):
        run_scan("127.0.0.1:8000")
    with pytest.raises(ScanArgumentError, match="unknown Schemathesis phase: fuzz"):
        run_scan("http://127.0.0.1:9", phases=["fuzz"])
    with pytest.raises(ScanArgumentError, match="delay must be >= 0"):
        run_scan("http://127.0.0.1:9", delay=-1)
    with pytest.raises(SchemaError, match="cannot fetch the OpenAPI schema at http://127.0.0.1:9/openapi.json"):
        run_scan("http://127.0.0.1:9")


# -- the schema ------------------------------------------------------------------------------------
DOC = {
    "openapi": "3.1.0",
    "servers": [{"url": "https://api.example.com/{version}", "variables": {"version": {"default": "v2"}}}],
    "security": [{"bearer": []}],
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "parameters": {"Page": {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}}},
        "schemas": {
            "Base": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
            "Item": {"allOf": [{"$ref": "#/components/schemas/Base"},
                               {"properties": {"address": {"type": "object",
                                                           "properties": {"city": {"type": "string"}}},
                                               "id": {"type": "integer", "readOnly": True}}}]},
        },
    },
    "paths": {
        "/items/{item_id}": {
            "parameters": [{"name": "item_id", "in": "path", "schema": {"type": "string"}}],
            "get": {"parameters": [{"$ref": "#/components/parameters/Page"},
                                   {"name": "X-Trace", "in": "header", "schema": {"type": "string"}},
                                   {"name": "sid", "in": "cookie", "schema": {"type": "string"}}],
                    "responses": {"200": {"description": "ok", "content": {"text/html": {}}}}},
            "put": {"requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}},
                    "security": []},
        },
        "/public": {"get": {"security": [{}, {"bearer": []}]}},
    },
}


def test_operations_parameters_and_body_fields() -> None:
    schema = parse_schema(DOC, "doc.json")
    assert [op.label for op in schema.operations] == ["GET /items/{item_id}", "PUT /items/{item_id}", "GET /public"]
    get, put, public = schema.operations
    assert [(p.name, p.location) for p in get.points] == [("item_id", "path"), ("page", "query"),
                                                         ("X-Trace", "header"), ("sid", "cookie")]
    assert get.declares_html and get.secured
    assert put.body_type == "json" and not put.secured  # `security: []` opts out
    assert [f.name for f in put.body_fields] == ["name", "address", "address.city"]  # readOnly left out
    assert [p.name for p in put.points] == ["item_id", "name", "address.city"]
    assert not public.secured  # an empty requirement makes credentials optional
    assert schema.base_path == "/v2" and schema.base_url("http://127.0.0.1:8000/") == "http://127.0.0.1:8000/v2"
    assert schema.base_url("http://127.0.0.1:8000/v2") == "http://127.0.0.1:8000/v2"
    assert schema.security_schemes == {"bearer": {"type": "http", "scheme": "bearer"}}


def test_swagger_2() -> None:
    doc = {"swagger": "2.0", "basePath": "/api/", "securityDefinitions": {"key": {"type": "apiKey", "in": "header",
                                                                                  "name": "X-Key"}},
           "paths": {"/login": {"post": {"security": [{"key": []}], "parameters": [
               {"name": "body", "in": "body", "schema": {"type": "object", "properties": {
                   "user": {"type": "string"}, "password": {"type": "string"}}}},
               {"name": "limit", "in": "query", "type": "integer", "minimum": 5}]}},
               "/upload": {"post": {"parameters": [{"name": "filename", "in": "formData", "type": "string",
                                                    "required": True}]}}}}
    schema = parse_schema(doc, "swagger.json")
    login, upload = schema.operations
    assert schema.base_path == "/api" and login.secured and login.body_type == "json"
    assert [(p.name, p.location, p.type) for p in login.points] == [("limit", "query", "integer"),
                                                                   ("user", "body", "string"),
                                                                   ("password", "body", "string")]
    assert benign(login.params[0].schema) == 5
    assert upload.body_type == "form" and [f.name for f in upload.body_fields] == ["filename"]


@pytest.mark.parametrize(("document", "message"), [
    ([1, 2], "is not an OpenAPI document: it is a list, not an object"),
    ("<html>", "is not an OpenAPI document: it is a str"),
    ({"info": {}}, "it has neither an 'openapi' nor a 'swagger' field"),
    ({"openapi": "4.0.0", "paths": {}}, "has version '4.0.0': supported are 3.0, 3.1 and Swagger 2.0"),
    ({"openapi": "3.0.0", "paths": []}, "'paths' is a list, not an object"),
    ({"openapi": "3.0.0", "paths": {"/x": []}}, "/paths/~1x is a list, not an object"),
    ({"openapi": "3.0.0", "paths": {"/x": {"get": {"parameters": [{"in": "query"}]}}}},
     "/paths/~1x/get/parameters/0 is not a parameter (it needs 'name' and 'in')"),
    ({"openapi": "3.0.0", "paths": {"/x": {"get": {"parameters": {"a": 1}}}}}, "parameters is a dict, not a list"),
    ({"openapi": "3.0.0", "paths": {"/x": {"$ref": "other.json#/x"}}}, "only local $refs are supported"),
    ({"openapi": "3.0.0", "paths": {"/x": {"get": {"parameters": [{"$ref": "#/components/parameters/P"}]}}}},
     "has a $ref that points at nothing: '#/components/parameters/P'"),
])
def test_invalid_schemas_are_errors_that_name_the_document_and_the_place(document: object, message: str) -> None:
    with pytest.raises(SchemaError) as caught:
        parse_schema(document, "api.json")
    assert "the OpenAPI schema at api.json" in str(caught.value) and message in str(caught.value)
    assert caught.value.location == "api.json"


def test_a_reference_cycle_ends() -> None:
    doc = {"openapi": "3.0.0", "components": {"schemas": {"Node": {"type": "object", "properties": {
        "name": {"type": "string"}, "child": {"$ref": "#/components/schemas/Node"}}}}},
        "paths": {"/n": {"post": {"requestBody": {"content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Node"}}}}}}}}
    op = parse_schema(doc, "cycle.json").operations[0]
    assert [f.name for f in op.body_fields][:3] == ["name", "child", "child.name"]


# -- values ----------------------------------------------------------------------------------------
def test_benign_values_follow_the_schema() -> None:
    assert benign({"type": "string", "format": "email"}) == "scan@example.com"
    assert benign({"type": "string"}, "item_id") == "1" and benign({"type": "string"}, "userId") == "1"
    assert benign({"type": "string", "enum": [None, "b"]}) == "b"
    assert benign({"type": "string", "default": "x"}) == "x" and benign({"type": "integer", "example": 7}) == 7
    assert benign({"type": "integer", "minimum": 10, "maximum": 20}) == 10
    assert benign({"type": "integer", "exclusiveMinimum": 0}) == 1
    assert benign({"type": "number", "maximum": 0.5}) == 0.5
    assert benign({"type": "string", "pattern": "^[0-9]+$"}) == "1"
    assert benign({"type": "string", "minLength": 12}) == "stackrigstac"
    assert benign({"type": ["null", "boolean"]}) is True
    assert benign({"type": "array", "items": {"type": "integer"}, "minItems": 2}) == [1, 1]
    assert benign({"properties": {"a": {"type": "string"}, "b": {"readOnly": True}}}) == {"a": "stackrig"}
    assert wrong_type({"type": "integer"}, "query") == "stackrig" and wrong_type({"type": "string"}, "query") is None
    assert wrong_type({"type": "string"}, "body") == {"stackrig": 1}


# -- tokens ----------------------------------------------------------------------------------------
def test_jwt_variants() -> None:
    key = b"k" * 32
    token = hs256({"sub": "7", "exp": 4102444800, "nbf": 1}, key)
    assert is_jwt(token) and not is_jwt("abc") and not is_jwt("a.b.c")
    assert [what for what, _ in jwt_variants(token)] == ["a JWT with a flipped signature byte",
                                                        "the JWT re-made with alg: none"]
    variants = dict(jwt_variants(token, key.decode()))
    flipped = variants["a JWT with a flipped signature byte"]
    assert flipped.rsplit(".", 1)[0] == token.rsplit(".", 1)[0] and flipped != token
    none = variants["the JWT re-made with alg: none"]
    head, body, sig = none.split(".")
    assert sig == "" and json.loads(base64.urlsafe_b64decode(head + "==")) == {"alg": "none", "typ": "JWT"}
    expired = variants["a validly signed copy with exp in the past"]
    head, body, sig = expired.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    assert claims["sub"] == "7" and claims["exp"] < claims["iat"] + 7200 and "nbf" not in claims
    mac = hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64encode(mac).rstrip(b"=").decode() == sig  # signed with the key, as the server does


# -- requests --------------------------------------------------------------------------------------
def test_curl_lines_are_shell_quoted() -> None:
    line = curl_line("POST", "http://127.0.0.1:1/a?q=%27", {"X-Name": "o'brien; rm -rf /", "Cookie": "t=dark'"},
                     b'{"name": "x\'"}')
    words = shlex.split(line)
    assert words[:5] == ["curl", "-sS", "-i", "-X", "POST"]
    assert "http://127.0.0.1:1/a?q=%27" in words and "X-Name: o'brien; rm -rf /" in words
    assert words[-1] == '{"name": "x\'"}' and words[-2] == "--data-raw"
    assert "--path-as-is" in curl_line("GET", "http://h/f?name=../../etc/passwd", {}, None)


def test_login_and_file_parameters_are_recognised() -> None:
    def op(method: str, path: str, fields: list[str], opid: str = "", tags: tuple[str, ...] = ()) -> Operation:
        return Operation(method=method, path=path, operation_id=opid, tags=tags, body_type="json",
                         body_fields=[Param(f, "body", {"type": "string"}) for f in fields])

    assert looks_like_login(op("POST", "/auth/login", ["email", "password"], "login_auth_login_post"))
    assert looks_like_login(op("POST", "/api/v1/sign-in", ["user", "pass"]))
    assert looks_like_login(op("POST", "/oauth/token", ["username", "password"]))
    assert looks_like_login(op("POST", "/sessions", ["name"], tags=("auth",)))
    assert looks_like_login(op("POST", "/auth", ["username", "password"]))
    assert not looks_like_login(op("POST", "/auth/register", ["email", "password"], tags=("auth",)))
    assert not looks_like_login(op("POST", "/auth/logout", []))
    assert not looks_like_login(op("GET", "/login", []))
    assert not looks_like_login(op("POST", "/orders", ["item"], tags=("auth",)))
    files = Operation(method="GET", path="/files/{id}")
    assert looks_like_a_path(files, Param("filename", "query", {"type": "string"}), "a.txt")
    assert looks_like_a_path(files, Param("id", "path", {"type": "string"}), "1")
    assert looks_like_a_path(Operation(method="GET", path="/render"), Param("tpl", "query", {"type": "string"}), "x")
    assert looks_like_a_path(Operation(method="GET", path="/x"), Param("q", "query", {"type": "string"}), "logo.png")
    assert not looks_like_a_path(Operation(method="GET", path="/users"), Param("profile", "query", {}), "me")
    assert not looks_like_a_path(files, Param("page", "query", {"type": "integer"}), 1)


# -- results ---------------------------------------------------------------------------------------
def test_results_fail_on_a_severity_and_render_grouped_by_kind() -> None:
    result = ScanResult(target="http://h", schema="http://h/openapi.json", checks=KINDS, operations=2, requests=9)
    assert result.ok() and "no findings — 2 operations of http://h, 9 requests" in result.render()
    result.findings = [
        Finding("server-error", "low", "GET /a", "500 on malformed JSON", "500 'boom'", "curl -sS -i http://h/a"),
        Finding("xss", "high", "GET /b", "echoed", "200 text/html: <script>", "curl -sS -i http://h/b", "q",
                "query", "<script>"),
        Finding("rate-limit", "medium", "POST /login", "25 failed logins", "401 ×25", "curl -sS -i -X POST http://h"),
    ]
    result.sort()
    assert [f.kind for f in result.findings] == ["xss", "rate-limit", "server-error"]
    assert not result.ok("high") and [f.kind for f in result.failing("medium")] == ["xss", "rate-limit"]
    with pytest.raises(ScanArgumentError):
        result.ok("severe")
    text = result.render()
    assert text.index("xss (1)") < text.index("rate-limit (1)") < text.index("server-error (1)")
    assert "q (query)" in text and "      curl -sS -i http://h/b" in text
    assert "3 findings: 1 high, 1 medium, 1 low" in text
    with pytest.raises(AssertionError, match="1 finding"):
        result.assert_ok("high")
    assert result.to_json()["findings"][0] == {
        "kind": "xss", "severity": "high", "operation": "GET /b", "parameter": "q", "location": "query",
        "payload": "<script>", "title": "echoed", "evidence": "200 text/html: <script>", "curl": "curl -sS -i http://h/b"}


# -- payloads --------------------------------------------------------------------------------------
def test_the_payload_lists_load_and_are_attributed() -> None:
    dbms = {d for d, _ in sql_errors()}
    assert dbms == {"PostgreSQL", "MySQL", "SQLite", "MSSQL"}
    assert {d for d, _ in sql_time_payloads()} == {"PostgreSQL", "MySQL", "MSSQL"}
    assert all("{d}" in p for _, p in sql_time_payloads())
    assert ("'", "''") in sql_error_payloads()
    assert all("{m}" in p for p in xss_payloads()) and len(xss_payloads()) <= 5
    assert any("%252f" in p for p in traversal_payloads()) and any("....//" in p for p in traversal_payloads())
    assert [name for name, _ in file_signatures()] == ["/etc/passwd", "win.ini"]
    readme = (PAYLOADS / "README.md").read_text()
    for path in PAYLOADS.glob("*.txt"):
        assert f"`{path.name}`" in readme, f"{path.name} is not attributed in payloads/README.md"
    assert "fray" in readme and "MIT" in readme and "3.5.249" in readme


def test_the_error_signatures_match_real_driver_messages() -> None:
    import sqlite3

    conn = sqlite3.connect(":memory:")
    for bad in ("SELECT 'a''", "SELECT * FROM t WHERE x = 1'", 'SELECT "a" FROM'):
        with pytest.raises(sqlite3.Error) as caught:
            conn.execute(bad)
        text = f"{type(caught.value).__module__}.{type(caught.value).__name__}: {caught.value}"
        assert any(p.search(text) for d, p in sql_errors() if d == "SQLite"), text
    for text, name in (('ERROR:  syntax error at or near "\'"', "PostgreSQL"),
                       ("unterminated quoted string at or near \"'\" LINE 1", "PostgreSQL"),
                       ("You have an error in your SQL syntax; check the manual that corresponds to your MySQL "
                        "server version", "MySQL"),
                       ("Unclosed quotation mark after the character string ''.", "MSSQL")):
        assert any(p.search(text) for d, p in sql_errors() if d == name), text
    assert not any(p.search('{"detail": "not found", "items": []}') for _, p in sql_errors())
