"""The JSON matchers: ``equalToJson`` (with JsonUnit placeholders, ``ignoreArrayOrder`` and
``ignoreExtraElements``) and ``matchesJsonPath`` (alone, or with a nested matcher on what the
expression selects).

Both parse the value as JSON; a value that is not JSON matches neither.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ._jackson import jackson_pretty
from ._jsonpath import compile_json_path
from ._matchers_base import ValuePattern, similarity_distance

__all__ = ["EqualToJson", "MatchesJsonPath", "json_equal", "stringify_json_value"]


class _Placeholder:
    """JsonUnit placeholders inside equalToJson: ``${json-unit.any-string}`` and friends."""

    @staticmethod
    def check(expected: str, actual: Any) -> bool | None:
        if not expected.startswith("${json-unit."):
            return None
        if expected == "${json-unit.ignore}" or expected == "${json-unit.ignore-element}":
            return True
        if expected == "${json-unit.any-string}":
            return isinstance(actual, str)
        if expected == "${json-unit.any-number}":
            return isinstance(actual, (int, float)) and not isinstance(actual, bool)
        if expected == "${json-unit.any-boolean}":
            return isinstance(actual, bool)
        if expected.startswith("${json-unit.regex}"):
            return isinstance(actual, str) and re.fullmatch(expected[len("${json-unit.regex}") :], actual) is not None
        return None


def json_equal(expected: Any, actual: Any, ignore_order: bool, ignore_extra: bool, placeholders: bool = True) -> bool:
    """JSON equality the way WireMock's equalToJson sees it (numbers by value, true is not 1)."""
    if isinstance(expected, str):
        if placeholders:
            verdict = _Placeholder.check(expected, actual)
            if verdict is not None:
                return verdict
        return isinstance(actual, str) and actual == expected
    if isinstance(expected, bool) or expected is None:
        return type(actual) is type(expected) and actual == expected
    if isinstance(expected, (int, float)):
        return isinstance(actual, (int, float)) and not isinstance(actual, bool) and actual == expected
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return False
        if not ignore_extra and len(actual) != len(expected):
            return False
        for key, value in expected.items():
            if key not in actual:
                if placeholders and value == "${json-unit.ignore}":
                    continue
                return False
            if not json_equal(value, actual[key], ignore_order, ignore_extra, placeholders):
                return False
        return True
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return False
        if len(actual) < len(expected) or (not ignore_extra and len(actual) != len(expected)):
            return False
        if not ignore_order:
            return all(
                json_equal(e, a, ignore_order, ignore_extra, placeholders)
                for e, a in zip(expected, actual, strict=False)
            )
        unused = list(actual)
        for e in expected:
            for i, a in enumerate(unused):
                if json_equal(e, a, ignore_order, ignore_extra, placeholders):
                    del unused[i]
                    break
            else:
                return False
        return True
    return bool(expected == actual)


_NOT_JSON = object()


def _parse_json(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return _NOT_JSON


class EqualToJson(ValuePattern):
    op = "equalToJson"
    is_equality = True

    def __init__(self, expected: Any, ignore_order: bool, ignore_extra: bool) -> None:
        super().__init__(expected)
        self.ignore_order = ignore_order
        self.ignore_extra = ignore_extra

    def matches(self, value: str | None) -> bool:
        if value is None:
            return False
        actual = _parse_json(value)
        if actual is _NOT_JSON:
            return False
        return json_equal(self.expected, actual, self.ignore_order, self.ignore_extra)

    def distance(self, value: str | None) -> float:
        if self.matches(value):
            return 0.0
        want = json.dumps(self.expected, sort_keys=True)
        got = value if value is None else json.dumps(_parse_json(value), sort_keys=True, default=str)
        return max(0.01, similarity_distance(want, got))

    def expected_text(self) -> str:
        return jackson_pretty(self.expected)


def stringify_json_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    return json.dumps(value, separators=(",", ":"))


_INDEFINITE = re.compile(r"\.\.|\*|\[\?|\[[^\]]*[,:][^\]]*\]")


class MatchesJsonPath(ValuePattern):
    """Like WireMock's ``MatchesJsonPathPattern`` (on Jayway JsonPath).

    A definite path (``$.a.b[0]``) selects one value, an indefinite one (``$..a``, ``[*]``, filters,
    slices) a list of them.  Alone, the matcher wants a value that is not null and not an empty
    list or object.  With a nested matcher, an object (or, for ``equalToJson``, a list) is matched
    as its JSON, and a list element by element: any element matching is enough.
    """

    op = "matchesJsonPath"

    def __init__(self, expected: Any, expression: str, nested: ValuePattern | None) -> None:
        super().__init__(expected)
        self.expression = expression
        self.nested = nested
        self._find = compile_json_path(expression)
        self._definite = _INDEFINITE.search(expression) is None

    def _select(self, value: str | None) -> Any:
        """Jayway's result for ``value``: the value, a list of values, or None (also: not JSON)."""
        if value is None or value.lstrip().startswith("<"):
            return None
        doc = _parse_json(value)
        if doc is _NOT_JSON:
            return None
        found = self._find(doc)
        if self._definite:
            return found[0] if found else None
        return found

    def _results(self, selected: Any) -> list[str | None]:
        """WireMock's ``getExpressionResult``: the strings the nested matcher is tried on."""
        if isinstance(selected, dict) or (isinstance(selected, list) and isinstance(self.nested, EqualToJson)):
            return [jackson_pretty(selected)]
        if isinstance(selected, list):
            return [None if v is None else stringify_json_value(v) for v in selected]
        if selected is None:
            return []
        return [stringify_json_value(selected)]

    def matches(self, value: str | None) -> bool:
        selected = self._select(value)
        if self.nested is None:
            if isinstance(selected, (list, dict)):
                return len(selected) > 0
            return selected is not None
        if value is None or _parse_json(value) is _NOT_JSON:
            return False
        results = self._results(selected)
        if not results and self.nested.is_absent():
            results = [None]
        return any(self.nested.matches(r) for r in results)

    def describe(self) -> str:
        if self.nested is None:
            return f"matchesJsonPath {self.expression!r}"
        return f"matchesJsonPath {self.expression!r} {self.nested.describe()}"

    def expected_text(self) -> str:
        return self.expression

    def expression_result(self, value: str | None) -> str | None:
        """What the expression selects in ``value``, printed as WireMock's diff shows it (or None)."""
        results = [r for r in self._results(self._select(value)) if r is not None]
        return results[0] if results else None
