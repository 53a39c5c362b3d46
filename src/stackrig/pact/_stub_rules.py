"""Pact matching rules from a WireMock stub mapping's request matchers, where they map.

=============================================  =========================================
stub matcher                                   pact rule
=============================================  =========================================
``equalTo``                                    ``equality`` (``caseInsensitive``: ``(?i)`` regex)
``matches``                                    ``regex`` (anchored: WireMock matches the whole value)
``contains``                                   ``include``
``and`` / ``or``                               the rules of each, combined ``AND`` / ``OR``
``urlPathPattern``, ``urlPattern`` (no query)  ``regex`` on the path
``urlPathTemplate`` (``/products/{id}``)       ``regex`` on the path (``[^/]+`` per variable)
``equalToJson`` placeholders                   ``${json-unit.any-string}`` → ``type``,
                                               ``any-number`` → ``number``, ``any-boolean`` →
                                               ``boolean``, ``ignore`` → ``type``, ``regex`` → ``regex``
``equalToJson`` + ``ignoreExtraElements``      ``type`` on every element the stub did not name
``matchesJsonPath`` (presence)                 ``type`` at that path
``matchesJsonPath`` + a nested matcher         that matcher's rule at that path
=============================================  =========================================

What does not map (``doesNotMatch``, ``absent``, ``ignoreArrayOrder``, XML and XPath, JSONPath
filters and recursive descent) adds no rule: the exchanged value stands as the example.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["body_rules", "header_names", "path_rule", "string_rule", "value_rules"]

Rule = dict[str, Any]

_PLACEHOLDERS = {
    "${json-unit.any-string}": {"match": "type"},
    "${json-unit.any-number}": {"match": "number"},
    "${json-unit.any-boolean}": {"match": "boolean"},
    "${json-unit.ignore}": {"match": "type"},
    "${json-unit.ignore-element}": {"match": "type"},
}
_REGEX_PLACEHOLDER = "${json-unit.regex}"
_SIMPLE_PATH = re.compile(r"^\$((\.[A-Za-z_][A-Za-z0-9_\-]*)|(\[\d+\])|(\[\*\])|(\['[^']+'\])|(\.\*))*$")


def _anchored(regex: str) -> str:
    """WireMock matches a regex against the whole value; a pact regex must say so."""
    return regex if regex.startswith("^") and regex.endswith("$") else f"^(?:{regex})$"


def _rule(matchers: list[dict[str, Any]], combine: str = "AND") -> Rule:
    return {"combine": combine, "matchers": matchers}


def string_rule(matcher: Any) -> Rule | None:
    """The pact rule for a WireMock string matcher (None when it does not map)."""
    if not isinstance(matcher, Mapping):
        return None
    if "equalTo" in matcher:
        value = str(matcher["equalTo"])
        if matcher.get("caseInsensitive"):
            return _rule([{"match": "regex", "regex": f"(?i)^{re.escape(value)}$"}])
        return _rule([{"match": "equality"}])
    if "matches" in matcher:
        return _rule([{"match": "regex", "regex": _anchored(str(matcher["matches"]))}])
    if "contains" in matcher:
        return _rule([{"match": "include", "value": str(matcher["contains"])}])
    for key, combine in (("and", "AND"), ("or", "OR")):
        if isinstance(matcher.get(key), list):
            parts = [string_rule(m) for m in matcher[key]]
            if any(p is None for p in parts) and combine == "OR":
                return None  # one branch has no rule: any value may do
            found = [m for p in parts if p is not None for m in p["matchers"]]
            return _rule(found, combine) if found else None
    return None


def path_rule(pattern: Mapping[str, Any]) -> Rule | None:
    """A rule on the request path from the stub's URL matcher (exact URLs need none)."""
    if isinstance(pattern.get("urlPathPattern"), str):
        return _rule([{"match": "regex", "regex": _anchored(pattern["urlPathPattern"])}])
    if isinstance(pattern.get("urlPattern"), str) and "\\?" not in pattern["urlPattern"]:  # no query part
        return _rule([{"match": "regex", "regex": _anchored(pattern["urlPattern"])}])
    template = pattern.get("urlPathTemplate")
    if isinstance(template, str):
        parts = re.split(r"(\{[^/{}]+\})", template)
        regex = "".join("[^/]+" if p.startswith("{") and p.endswith("}") else re.escape(p) for p in parts)
        return _rule([{"match": "regex", "regex": f"^{regex}$"}])
    return None


def value_rules(matchers: Any) -> dict[str, Rule]:
    """Rules for `queryParameters` / `headers` (name -> string matcher)."""
    out: dict[str, Rule] = {}
    if not isinstance(matchers, Mapping):
        return out
    for name, matcher in matchers.items():
        rule = string_rule(matcher)
        if rule is not None:
            out[str(name)] = rule
    return out


def header_names(pattern: Mapping[str, Any]) -> list[str]:
    """Request headers the stub looks at (those a pact request should carry), `absent` ones left out."""
    headers = pattern.get("headers")
    names = [str(n) for n, m in headers.items() if not (isinstance(m, Mapping) and m.get("absent"))] \
        if isinstance(headers, Mapping) else []
    if pattern.get("basicAuthCredentials"):
        names.append("Authorization")
    return names


def _json_path(expr: str) -> str | None:
    expr = expr.strip()
    return expr if _SIMPLE_PATH.match(expr) else None


def _child(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_\-]*", key) else f"{path}['{key}']"


def _from_json(expected: Any, actual: Any, path: str, extra: bool, out: dict[str, Rule]) -> None:
    if isinstance(expected, str):
        if expected in _PLACEHOLDERS:
            out[path] = _rule([dict(_PLACEHOLDERS[expected])])
        elif expected.startswith(_REGEX_PLACEHOLDER):
            out[path] = _rule([{"match": "regex", "regex": expected[len(_REGEX_PLACEHOLDER):]}])
        return
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        for key, value in actual.items():
            if key in expected:
                _from_json(expected[key], value, _child(path, str(key)), extra, out)
            elif extra:  # a rule a matcher gave the same element wins
                out.setdefault(_child(path, str(key)), _rule([{"match": "type"}]))
        return
    if isinstance(expected, list) and isinstance(actual, list):
        for i, value in enumerate(actual):
            if i < len(expected):
                _from_json(expected[i], value, _child(path, i), extra, out)
            elif extra:
                out.setdefault(_child(path, i), _rule([{"match": "type"}]))


def body_rules(patterns: Any, actual: Any) -> dict[str, Rule]:
    """Body rules (JSON path -> rule) from the stub's ``bodyPatterns`` and the body as sent."""
    out: dict[str, Rule] = {}
    if not isinstance(patterns, list):
        return out
    for pattern in patterns:
        if not isinstance(pattern, Mapping):
            continue
        if "equalToJson" in pattern:
            expected = pattern["equalToJson"]
            if isinstance(expected, str):
                try:
                    expected = json.loads(expected)
                except ValueError:
                    continue
            _from_json(expected, actual, "$", bool(pattern.get("ignoreExtraElements")), out)
        elif "matchesJsonPath" in pattern:
            spec = pattern["matchesJsonPath"]
            if isinstance(spec, str):
                where = _json_path(spec)
                if where is not None and where != "$":
                    out.setdefault(where, _rule([{"match": "type"}]))
            elif isinstance(spec, Mapping) and isinstance(spec.get("expression"), str):
                where = _json_path(spec["expression"])
                rule = string_rule(spec)
                if where is not None and rule is not None:
                    out[where] = rule
                elif where is not None and where != "$":
                    out.setdefault(where, _rule([{"match": "type"}]))
        elif "matches" in pattern or "contains" in pattern:
            rule = string_rule(pattern)
            if rule is not None:
                out["$"] = rule
    return out
