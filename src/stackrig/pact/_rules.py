"""Pact matching rules, evaluated in Python: does a captured message match a pact's contents?

The Rust verifier gives the verdict; this picks *which* of the messages a tap saw is the one to
hand it (the first whose contents match), and explains a miss.  It follows the Pact specification
(V3/V4 body rules): objects must have the expected keys (extra keys allowed), lists the expected
length unless a ``type`` rule with ``min``/``max`` says otherwise, other values are equal unless a
rule applies; a rule applies to its path and, as in Pact, cascades to everything below it unless
a more specific path has its own rule.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["mismatches", "parse_path"]

Token = str | int

_TOKEN = re.compile(r"""\.(?P<name>[^.\[\]]+)|\[(?P<index>\d+|\*)\]|\[['"](?P<quoted>[^'"]*)['"]\]""")


def parse_path(expr: str) -> list[Token]:
    """``$.a[0].b`` → ``["a", 0, "b"]``; ``*`` stays a wildcard token."""
    if not expr.startswith("$"):
        return [expr]
    out: list[Token] = []
    pos = 1
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if m is None:
            out.append(expr[pos:])  # not a form we know: never matches a real path
            break
        if m.group("name") is not None:
            out.append(m.group("name"))
        elif m.group("index") is not None:
            index = m.group("index")
            out.append("*" if index == "*" else int(index))
        else:
            out.append(m.group("quoted"))
        pos = m.end()
    return out


def _weight(rule: list[Token], path: list[Token]) -> int:
    """How well `rule` matches `path` or one of its ancestors (0: not at all)."""
    if len(rule) > len(path):
        return 0
    weight = 1
    for want, got in zip(rule, path, strict=False):
        if want == "*":
            weight += 1
        elif want == got or (isinstance(got, int) and want == str(got)):
            weight += 2
        else:
            return 0
    return weight * 100 + len(rule)


class _Rules:
    def __init__(self, rules: Mapping[str, Any]) -> None:
        self.rules = [(parse_path(k), v) for k, v in rules.items()]

    def at(self, path: list[Token]) -> tuple[list[dict[str, Any]], str, bool]:
        """(matchers, combine, exact): the rule for `path` (its own, or cascaded from above)."""
        best: tuple[int, Any, bool] = (0, None, False)
        for rule_path, rule in self.rules:
            w = _weight(rule_path, path)
            if w > best[0]:
                best = (w, rule, len(rule_path) == len(path))
        rule = best[1]
        if not isinstance(rule, Mapping):
            return [], "AND", False
        matchers = [dict(m) for m in rule.get("matchers", []) if isinstance(m, Mapping)]
        return matchers, str(rule.get("combine", "AND")), best[2]


def _show(path: list[Token]) -> str:
    return "$" + "".join(f"[{t}]" if isinstance(t, int) else f".{t}" for t in path)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def _leaf(matcher: Mapping[str, Any], expected: Any, actual: Any) -> str | None:
    """Why `actual` fails `matcher` (None when it passes)."""
    match = matcher.get("match") or ("type" if "min" in matcher or "max" in matcher else "equality")
    if match == "equality":
        return None if actual == expected else f"expected {_short(expected)}, found {_short(actual)}"
    if match == "regex":
        ok = isinstance(actual, str | int | float) and not isinstance(actual, bool) and \
            re.fullmatch(str(matcher.get("regex", "")), str(actual)) is not None  # as the Rust core: whole value
        return None if ok else f"{_short(actual)} does not match /{matcher.get('regex')}/"
    if match in ("type", "arrayContains", "eachKey", "eachValue", "values"):
        ok = _kind(actual) == _kind(expected) or match != "type"
        return None if ok else f"expected a {_kind(expected)}, found a {_kind(actual)} {_short(actual)}"
    if match == "include":
        return None if str(matcher.get("value", "")) in str(actual) else \
            f"{_short(actual)} does not include {_short(matcher.get('value'))}"
    if match == "integer":
        ok = isinstance(actual, int) and not isinstance(actual, bool)
        return None if ok else f"{_short(actual)} is not an integer"
    if match == "decimal":
        return None if isinstance(actual, float) else f"{_short(actual)} is not a decimal number"
    if match == "number":
        ok = isinstance(actual, int | float) and not isinstance(actual, bool)
        return None if ok else f"{_short(actual)} is not a number"
    if match == "boolean":
        return None if isinstance(actual, bool) else f"{_short(actual)} is not a boolean"
    if match == "null":
        return None if actual is None else f"{_short(actual)} is not null"
    if match in ("date", "time", "timestamp", "datetime", "semver"):
        return None if isinstance(actual, str) else f"{_short(actual)} is not a {match} string"
    if match == "notEmpty":
        return None if actual not in (None, "", [], {}) else "is empty"
    return None  # contentType, statusCode, ...: nothing to check on a value


def _apply(matchers: list[dict[str, Any]], combine: str, expected: Any, actual: Any) -> list[str]:
    problems = [p for p in (_leaf(m, expected, actual) for m in matchers) if p is not None]
    if combine.upper() == "OR" and len(problems) < len(matchers):
        return []
    return problems


def _walk(expected: Any, actual: Any, path: list[Token], rules: _Rules, out: list[str]) -> None:
    matchers, combine, _ = rules.at(path)
    if isinstance(expected, Mapping):
        if matchers:
            out.extend(f"{_show(path)}: {p}" for p in _apply(
                [m for m in matchers if m.get("match") in ("type", "values", None)], combine, expected, actual))
        if not isinstance(actual, Mapping):
            if not matchers:
                out.append(f"{_show(path)}: expected an object, found {_short(actual)}")
            return
        if any(m.get("match") == "values" for m in matchers):
            sample = next(iter(expected.values()), None)
            for key, value in actual.items():
                _walk(sample, value, [*path, str(key)], rules, out)
            return
        for key, value in expected.items():
            if key not in actual:
                out.append(f"{_show([*path, str(key)])}: missing")
            else:
                _walk(value, actual[key], [*path, str(key)], rules, out)
        return
    if isinstance(expected, list):
        if not isinstance(actual, list):
            out.append(f"{_show(path)}: expected an array, found {_short(actual)}")
            return
        typed = [m for m in matchers if m.get("match") in ("type", None) or "min" in m or "max" in m]
        if typed:
            for m in typed:
                if "min" in m and len(actual) < int(m["min"]):
                    out.append(f"{_show(path)}: expected at least {m['min']} items, found {len(actual)}")
                if "max" in m and len(actual) > int(m["max"]):
                    out.append(f"{_show(path)}: expected at most {m['max']} items, found {len(actual)}")
            if expected:
                for i, value in enumerate(actual):
                    _walk(expected[min(i, len(expected) - 1)], value, [*path, i], rules, out)
            return
        if len(expected) != len(actual):
            out.append(f"{_show(path)}: expected {len(expected)} items, found {len(actual)}")
            return
        for i, (want, got) in enumerate(zip(expected, actual, strict=True)):
            _walk(want, got, [*path, i], rules, out)
        return
    if matchers:
        out.extend(f"{_show(path)}: {p}" for p in _apply(matchers, combine, expected, actual))
    elif expected != actual:
        out.append(f"{_show(path)}: expected {_short(expected)}, found {_short(actual)}")


def mismatches(expected: Any, actual: Any, rules: Mapping[str, Any] | None = None) -> list[str]:
    """How `actual` differs from `expected` under the pact body `rules` ([] when it matches)."""
    out: list[str] = []
    if isinstance(expected, bytes | bytearray) or isinstance(actual, bytes | bytearray):
        if expected != actual:
            out.append(f"$: expected {len(expected or b'')} bytes of content, found {_short(actual)}")
        return out
    _walk(expected, actual, [], _Rules(rules or {}), out)
    return out
