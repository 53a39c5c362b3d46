"""The rows of WireMock's near-miss diff: what one stub expects next to what a request had.

A port of the line building in WireMock 3.13's ``verification.diff.Diff``: host, port, scheme,
method, URL, then headers, path parameters, query parameters, form fields, cookies, body and the
scenario state, each section followed by a spacer row, with WireMock's way of printing every kind
of matcher (``X-Id [matches] : [0-9]+``, ``Query: page = 1``, ``[equalToJson]`` and the document
...).  Matching body rows are left out, as WireMock does.  ``_diff_render`` lays the rows out.

Where WireMock prints a Java artefact (``<<<<< null. When using a regex ...`` on a URL that
matched, ``[B@1b2c3d`` for a binary body, ``Cookie: c [absent] null``) or marks a scenario row
whose states agree, the meaningful text is printed instead (no mark, the base64 body, ``(absent)``).
"""

from __future__ import annotations

import base64
import json

from ._diff_render import Row
from ._jackson import jackson_pretty
from ._mapping import StubMapping
from ._matchers_base import MultiPattern, ValuePattern
from ._matchers_json import EqualToJson, MatchesJsonPath
from ._matchers_string import BinaryEqualTo
from ._matchers_xml import EqualToXml, MatchesXPath
from ._pattern import RequestPattern
from ._request import Request, parse_query
from ._xml import pretty_xml

__all__ = ["diff_rows"]

_SPACER = Row("")
_URL_LABELS = {
    "url": "",
    "urlPattern": "[regex] ",
    "urlPath": "[path] ",
    "urlPathPattern": "[path regex] ",
    "urlPathTemplate": "[path template] ",
}


def _row(attribute: str, left: str, right: str, matched: bool, hint: str = "") -> Row:
    # As in WireMock, an empty request side is "not present" even where the stub wants it absent.
    if not right:
        return Row(left, right, f"{attribute} is not present" + ("" if matched else hint))
    return Row(left, right) if matched else Row(left, right, f"{attribute} does not match{hint}")


def _values_text(name: str, values: list[str] | None) -> str:
    """WireMock's ``MultiValue.toString()``: one ``name: value`` line per value."""
    return "\n".join(f"{name}: {v}" for v in values or ())


class _BasicAuth(ValuePattern):
    """``basicAuthCredentials`` as WireMock's diff shows it: an ``Authorization`` header ``[prefix]``."""

    op = "prefix"

    def matches(self, value: str | None) -> bool:
        return value is not None and value == str(self.expected)


def _operator(pattern: ValuePattern, default: str) -> str:
    return default if pattern.is_equality else f" [{pattern.name}] "


def _url_rows(rp: RequestPattern, req: Request) -> list[Row]:
    if not rp.url_kind:
        return [Row("(always)", req.url)]
    left = _URL_LABELS[rp.url_kind] + rp.url_value
    hint = ""
    if rp.url_kind in ("urlPattern", "urlPathPattern"):
        i = rp.url_value.find("?")
        if i != -1 and (i < 2 or rp.url_value[i - 1] != "\\"):
            hint += '. When using a regex, "?" should be "\\?"'
    if not rp.url_value.startswith("/"):
        hint += ". URLs must start with a /"
    return [_row("URL", left, req.url, rp.url_matches(req), hint)]


def _header_rows(rp: RequestPattern, req: Request) -> list[Row]:
    patterns: list[tuple[str, str, MultiPattern]] = list(rp.headers)
    if rp.basic_auth is not None:
        patterns.append(("authorization", "Authorization", MultiPattern(_BasicAuth(rp.basic_auth))))
    rows: list[Row] = []
    for lname, name, m in patterns:
        values = req.header_map.get(lname)
        expected = m.expected_text()
        left = name + m.operator_text("") + (": " + expected if expected else "")
        rows.append(_row("Header", left, _values_text(name, values), m.matches(values)))
    if rows:
        rows.append(_SPACER)
    return rows


def _multi_rows(
    attribute: str, label: str, patterns: list[tuple[str, MultiPattern]], actual: dict[str, list[str]]
) -> list[Row]:
    rows = []
    for name, m in patterns:
        values = actual.get(name)
        left = f"{label}: {name}{m.operator_text(' = ')}{m.expected_text()}"
        rows.append(_row(attribute, left, _values_text(name, values), m.matches(values)))
    if rows:
        rows.append(_SPACER)
    return rows


def _cookie_rows(rp: RequestPattern, req: Request) -> list[Row]:
    rows = []
    for name, m in rp.cookies:
        values = req.cookies.get(name)
        left = f"Cookie: {name}{m.operator_text('=')}{m.value_text()}"
        rows.append(_row("Cookie", left, values[0] if values else "", m.matches(values)))
    if rows:
        rows.append(_SPACER)
    return rows


def _path_parameter_rows(rp: RequestPattern, req: Request) -> list[Row]:
    if rp.url_kind != "urlPathTemplate" or not rp.path_params or not rp.url_matches(req):
        return []
    variables = rp.path_variables(req)
    patterns = dict(rp.path_params)
    rows = []
    for name in rp.template_vars:
        p = patterns.get(name)
        if p is None:
            continue
        value = variables.get(name, "")
        left = f"Path parameter: {name}{_operator(p, ' = ')}{p.value_text()}"
        rows.append(_row("Path parameter", left, value, p.matches(variables.get(name))))
    rows.append(_SPACER)
    return rows


def _formatted_body(pattern: ValuePattern, req: Request) -> str:
    if not req.body:
        return ""
    if isinstance(pattern, EqualToJson):
        try:
            return jackson_pretty(json.loads(req.text))
        except ValueError:
            return req.text
    if isinstance(pattern, EqualToXml):
        return pretty_xml(req.text)
    if isinstance(pattern, BinaryEqualTo):
        return base64.b64encode(req.body).decode("ascii")  # WireMock prints the byte array's identity
    return req.text


def _body_rows(rp: RequestPattern, req: Request) -> list[Row]:
    rows = []
    for p in rp.body:
        matched = rp.body_matches(p, req)
        if matched:
            continue  # WireMock prints only the body patterns that fail
        body = _formatted_body(p, req)
        if isinstance(p, (MatchesJsonPath, MatchesXPath)):
            if p.nested is None:
                rows.append(_row("Body", p.expression, body, False))
                continue
            left = f"{p.expression} [{p.nested.name}] {p.nested.expected_text()}"
            result = p.expression_result(req.text if req.body else None)
            rows.append(_row("Body", left, result if result is not None else body, False))
        elif isinstance(p, BinaryEqualTo):
            rows.append(_row("Body", p.expected_text(), body, False))
        else:
            rows.append(_row("Body", f"[{p.name}]\n{p.expected_text()}", "\n" + body, False))
    return rows


def _target_rows(rp: RequestPattern, req: Request) -> list[Row]:
    rows = []
    host_header = req.header("host") or ""
    if rp.host is not None:
        left = (_operator(rp.host, "") + rp.host.expected_text()).strip()
        host = host_header.rsplit(":", 1)[0]
        rows.append(_row("Host", left, host, rp.host.matches(host)))
    if rp.port is not None:
        port = host_header.rpartition(":")[2] if ":" in host_header else "80"
        rows.append(_row("Port", str(rp.port), port, str(rp.port) == port))
    if rp.scheme is not None:
        rows.append(_row("Scheme", str(rp.scheme), "http", rp.scheme == "http"))
    return rows


def diff_rows(stub: StubMapping, req: Request, scenario_state: str | None) -> list[Row]:
    """Every row of the diff between ``stub`` and ``req`` (``scenario_state``: its scenario's state now)."""
    rp = stub.request
    method = rp.method or "ANY"
    rows = _target_rows(rp, req)
    rows.append(_row("HTTP method", method, req.method, rp.method is None or rp.method == req.method))
    rows += _url_rows(rp, req)
    rows.append(_SPACER)
    rows += _header_rows(rp, req)
    rows += _path_parameter_rows(rp, req)
    rows += _multi_rows("Query", "Query", rp.query, req.query)
    if rp.form:
        rows += _multi_rows("Form data", "Form", rp.form, parse_query(req.text))
    rows += _cookie_rows(rp, req)
    rows += _body_rows(rp, req)
    if stub.scenario is not None and stub.required_state is not None:
        current = scenario_state or "Started"
        left = f"[Scenario '{stub.scenario}' state: {stub.required_state}]"
        right = f"[Scenario '{stub.scenario}' state: {current}]"
        # WireMock marks this row even when the states agree; here only a real difference is marked.
        rows.append(_row("Scenario", left, right, current == stub.required_state))
    return rows
