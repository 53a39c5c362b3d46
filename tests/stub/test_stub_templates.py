"""Response templating (the Handlebars subset) and the matchers, called directly."""

from __future__ import annotations

import datetime
import json
import re

import pytest

from stackrig.stub import MappingError
from stackrig.stub._matchers import json_equal, parse_value_pattern
from stackrig.stub._request import Request
from stackrig.stub._template import TemplateError, compile_template, request_model


def render(
    source: str, *, url: str = "/shop/items/7?q=a&q=b", body: str = "", headers: list[tuple[str, str]] | None = None
) -> str:
    req = Request("POST", url, headers or [("X-Trace", "t-1"), ("Cookie", "sid=abc")], body.encode())
    return compile_template(source)({"request": request_model(req, {"id": "7"}, "http://127.0.0.1:1234")})


def test_request_fields() -> None:
    assert render("{{request.method}} {{request.url}} {{request.path}}") == "POST /shop/items/7?q=a&q=b /shop/items/7"
    assert render("{{request.path.[2]}} {{request.path.id}} {{request.pathSegments.[0]}}") == "7 7 shop"
    assert render("{{request.query.q}} {{request.query.q.[1]}} [{{request.query.none}}]") == "a b []"
    assert render("{{request.headers.x-trace}} {{request.headers.[X-Trace]}} {{request.cookies.sid}}") == "t-1 t-1 abc"
    assert render("{{request.baseUrl}} {{request.port}}") == "http://127.0.0.1:1234 1234"


def test_blocks() -> None:
    assert render("{{#each request.query.q}}{{@index}}={{this}}{{#unless @last}},{{/unless}}{{/each}}") == "0=a,1=b"
    assert render("{{#if request.query.q}}yes{{else}}no{{/if}} {{#if request.query.z}}yes{{else}}no{{/if}}") == "yes no"
    assert render("{{#eq request.method 'POST'}}post{{else}}other{{/eq}}") == "post"
    assert render("{{! a comment }}x{{!-- another --}}y") == "xy"


def test_json_path_helper() -> None:
    body = json.dumps({"user": {"name": "Neo", "tags": ["a", "b"]}, "n": 2})
    assert render("{{jsonPath request.body '$.user.name'}}", body=body) == "Neo"
    assert render("{{jsonPath request.body '$.user.tags[1]'}}", body=body) == "b"
    assert render("{{jsonPath request.body '$.user'}}", body=body) == '{\n  "name" : "Neo",\n  "tags" : [ "a", "b" ]\n}'
    assert render("[{{jsonPath request.body '$.missing'}}]", body=body) == "[]"
    assert render("{{jsonPath request.body '$.missing' default='dflt'}}", body=body) == "dflt"
    assert render("{{math (jsonPath request.body '$.n') '*' 21}}", body=body) == "42"


def test_string_helpers() -> None:
    assert render("{{upper 'abc'}} {{lower 'ABC'}} {{capitalize 'abc'}} {{trim '  x '}}") == "ABC abc Abc x"
    assert render("{{size request.query.q}} {{base64 'hi'}} {{base64 'aGk=' decode=true}}") == "2 aGk= hi"
    assert render("{{urlEncode 'a b&c'}} {{regexExtract request.path '[0-9]+'}}") == "a%20b%26c 7"


def test_random_and_now() -> None:
    assert re.fullmatch(r"[a-z0-9]{36}", render("{{randomValue}}"))
    assert re.fullmatch(r"[0-9A-F]{8}", render("{{randomValue length=8 type='HEXADECIMAL' uppercase=true}}"))
    assert re.fullmatch(r"[0-9a-f-]{36}", render("{{randomValue type='UUID'}}"))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", render("{{now}}"))
    in_two_days = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=2)).strftime("%Y-%m-%d")
    rendered = render("{{now offset='2 days' format='yyyy-MM-dd'}}")
    assert rendered == in_two_days or rendered > in_two_days  # midnight may pass in between
    assert render("{{now format='epoch'}}").isdigit()


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{{#if x}}open", "{{#if}} is never closed"),
        ("{{/if}}", "{{/if}} closes nothing"),
        ("{{nohelper 1}}", "unknown or unsupported helper 'nohelper'"),
        ("{{upper (}}", "unbalanced '('"),
    ],
)
def test_template_errors(source: str, message: str) -> None:
    with pytest.raises(TemplateError, match=re.escape(message)):
        compile_template(source)


def test_json_equal_semantics() -> None:
    assert json_equal({"n": 1}, {"n": 1.0}, False, False)
    assert not json_equal({"n": 1}, {"n": True}, False, False)
    assert not json_equal({"a": None}, {}, False, False)
    assert json_equal([1, 2], [1, 2, 3], False, True)
    assert not json_equal([1, 2], [2, 1, 3], False, True)
    assert json_equal([{"id": 1}, {"id": 2}], [{"id": 2, "x": 0}, {"id": 1}], True, True)
    assert json_equal({"id": "${json-unit.any-string}"}, {"id": "x"}, False, False)


def test_matcher_errors_name_the_path() -> None:
    with pytest.raises(MappingError) as info:
        parse_value_pattern({"equalTo": "a", "matches": "b"}, "$.request.headers.X")
    assert str(info.value).startswith(
        "$.request.headers.X: a matcher must have exactly one operator, found 'equalTo', 'matches'"
    )
    with pytest.raises(MappingError, match=r"\$\.x: matcher 'before' is not supported by stackrig"):
        parse_value_pattern({"before": "now"}, "$.x")
    with pytest.raises(MappingError, match=r"\$\.x\.or: 'or' must be a non-empty list of matchers"):
        parse_value_pattern({"or": []}, "$.x")
