"""WireMock's string-value matchers (``equalTo``, ``matches``, ``equalToJson`` ...) and multi-value ones.

A matcher answers two questions: does a value match (``matches``, the hot path) and how far is it
from matching (``distance`` in [0, 1], only for near-miss reports).  ``None`` means "absent".
"""

from __future__ import annotations

import base64
import difflib
import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from ._errors import MappingError
from ._jsonpath import JsonPathError, compile_json_path
from ._xml import XmlError, compile_xpath, xml_equal

__all__ = [
    "SINGLE_OPERATORS",
    "MultiPattern",
    "ValuePattern",
    "json_equal",
    "parse_multi_pattern",
    "parse_value_pattern",
]

SINGLE_OPERATORS = (
    "equalTo",
    "binaryEqualTo",
    "contains",
    "doesNotContain",
    "matches",
    "doesNotMatch",
    "absent",
    "equalToJson",
    "matchesJsonPath",
    "equalToXml",
    "matchesXPath",
    "and",
    "or",
    "not",
)
MULTI_OPERATORS = ("hasExactly", "includes")
UNSUPPORTED = ("matchesJsonSchema", "before", "after", "equalToDateTime", "absentOrEqualTo")
_MODIFIERS: dict[str, tuple[str, ...]] = {
    "equalTo": ("caseInsensitive",),
    "equalToJson": (
        "ignoreArrayOrder",
        "ignoreExtraElements",
        "enablePlaceholders",
        "serializeFormat",
        "placeholderOpeningDelimiterRegex",
        "placeholderClosingDelimiterRegex",
    ),
    "equalToXml": (
        "enablePlaceholders",
        "placeholderOpeningDelimiterRegex",
        "placeholderClosingDelimiterRegex",
        "exemptedComparisons",
        "namespaceAwareness",
        "ignoreOrderOfSameNode",
    ),
    "matchesXPath": ("xPathNamespaces",),
}


_SIMILARITY_CHARS = 2000  # difflib is quadratic: compare long values by their start only


def _similarity_distance(expected: str, actual: str | None) -> float:
    if actual is None:
        return 1.0
    if expected == actual:
        return 0.0
    a, b = expected[:_SIMILARITY_CHARS], actual[:_SIMILARITY_CHARS]
    return max(0.01, 1.0 - difflib.SequenceMatcher(None, a, b).ratio())


class ValuePattern:
    """One WireMock string-value pattern.  Subclasses set ``op`` and implement ``matches``."""

    op = ""

    def __init__(self, expected: Any) -> None:
        self.expected = expected

    def matches(self, value: str | None) -> bool:
        raise NotImplementedError

    def distance(self, value: str | None) -> float:
        return 0.0 if self.matches(value) else 1.0

    def describe(self) -> str:
        if isinstance(self.expected, str):
            return f"{self.op} {self.expected!r}"
        return f"{self.op} {json.dumps(self.expected)}"

    def is_absent(self) -> bool:
        return False


class EqualTo(ValuePattern):
    op = "equalTo"

    def __init__(self, expected: str, case_insensitive: bool = False) -> None:
        super().__init__(expected)
        self.case_insensitive = case_insensitive
        self._folded = expected.casefold()

    def matches(self, value: str | None) -> bool:
        if value is None:
            return False
        if self.case_insensitive:
            return value.casefold() == self._folded
        return value == str(self.expected)

    def distance(self, value: str | None) -> float:
        if self.matches(value):
            return 0.0
        return max(0.01, _similarity_distance(self.expected, value))


class BinaryEqualTo(ValuePattern):
    op = "binaryEqualTo"

    def __init__(self, expected: str) -> None:
        super().__init__(expected)
        self._bytes = base64.b64decode(expected)

    def matches(self, value: str | None) -> bool:
        return value is not None and value.encode("utf-8", "surrogateescape") == self._bytes


class Contains(ValuePattern):
    op = "contains"

    def matches(self, value: str | None) -> bool:
        return value is not None and self.expected in value


class DoesNotContain(ValuePattern):
    op = "doesNotContain"

    def matches(self, value: str | None) -> bool:
        return value is None or self.expected not in value


class Matches(ValuePattern):
    op = "matches"

    def __init__(self, expected: str, regex: re.Pattern[str]) -> None:
        super().__init__(expected)
        self.regex = regex

    def matches(self, value: str | None) -> bool:
        return value is not None and self.regex.fullmatch(value) is not None


class DoesNotMatch(Matches):
    op = "doesNotMatch"

    def matches(self, value: str | None) -> bool:
        return value is None or self.regex.fullmatch(value) is None


class Absent(ValuePattern):
    op = "absent"

    def matches(self, value: str | None) -> bool:
        return value is None

    def describe(self) -> str:
        return "absent"

    def is_absent(self) -> bool:
        return True


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
        return max(0.01, _similarity_distance(want, got))


def _stringify_json_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    return json.dumps(value, separators=(",", ":"))


class MatchesJsonPath(ValuePattern):
    op = "matchesJsonPath"

    def __init__(self, expected: Any, expression: str, nested: ValuePattern | None) -> None:
        super().__init__(expected)
        self.expression = expression
        self.nested = nested
        self._find = compile_json_path(expression)

    def matches(self, value: str | None) -> bool:
        if value is None:
            return False
        doc = _parse_json(value)
        if doc is _NOT_JSON:
            return False
        found = self._find(doc)
        if self.nested is None:
            return any(v is not None for v in found) and not (len(found) == 1 and found[0] in ([], {}))
        if not found or all(v is None for v in found):
            return self.nested.matches(None)
        if len(found) == 1:
            return self.nested.matches(_stringify_json_value(found[0]))
        return any(self.nested.matches(_stringify_json_value(v)) for v in found) or self.nested.matches(
            _stringify_json_value(found)
        )

    def describe(self) -> str:
        if self.nested is None:
            return f"matchesJsonPath {self.expression!r}"
        return f"matchesJsonPath {self.expression!r} {self.nested.describe()}"


class EqualToXml(ValuePattern):
    op = "equalToXml"

    def matches(self, value: str | None) -> bool:
        return value is not None and xml_equal(self.expected, value)


class MatchesXPath(ValuePattern):
    op = "matchesXPath"

    def __init__(self, expected: Any, expression: str, namespaces: dict[str, str], nested: ValuePattern | None):
        super().__init__(expected)
        self.expression = expression
        self.nested = nested
        self._select = compile_xpath(expression, namespaces)

    def matches(self, value: str | None) -> bool:
        if value is None:
            return False
        found = self._select(value)
        if found is None:
            return False
        if self.nested is None:
            return bool(found)
        if not found:
            return self.nested.matches(None)
        return any(self.nested.matches(v) for v in found)

    def describe(self) -> str:
        if self.nested is None:
            return f"matchesXPath {self.expression!r}"
        return f"matchesXPath {self.expression!r} {self.nested.describe()}"


class And(ValuePattern):
    op = "and"

    def __init__(self, expected: Any, parts: list[ValuePattern]) -> None:
        super().__init__(expected)
        self.parts = parts

    def matches(self, value: str | None) -> bool:
        return all(p.matches(value) for p in self.parts)

    def distance(self, value: str | None) -> float:
        return sum(p.distance(value) for p in self.parts) / max(1, len(self.parts))

    def describe(self) -> str:
        return "(" + " and ".join(p.describe() for p in self.parts) + ")"


class Or(And):
    op = "or"

    def matches(self, value: str | None) -> bool:
        return any(p.matches(value) for p in self.parts)

    def distance(self, value: str | None) -> float:
        return min((p.distance(value) for p in self.parts), default=1.0)

    def describe(self) -> str:
        return "(" + " or ".join(p.describe() for p in self.parts) + ")"


class Not(ValuePattern):
    op = "not"

    def __init__(self, expected: Any, inner: ValuePattern) -> None:
        super().__init__(expected)
        self.inner = inner

    def matches(self, value: str | None) -> bool:
        return not self.inner.matches(value)

    def describe(self) -> str:
        return f"not {self.inner.describe()}"


# ---------------------------------------------------------------------------------------------
# Multi-value patterns: query parameters and headers can repeat.


class MultiPattern:
    """Matches the list of values of a repeatable field (``None`` when the field is absent)."""

    def __init__(self, single: ValuePattern | None, op: str = "", parts: Sequence[ValuePattern] = ()) -> None:
        self.single = single
        self.op = op
        self.parts = list(parts)

    def matches(self, values: list[str] | None) -> bool:
        single = self.single
        if single is not None:
            if not values:
                return single.matches(None)
            if len(values) == 1:
                return single.matches(values[0])
            return any(single.matches(v) for v in values)
        if not values:
            return False
        if self.op == "hasExactly" and len(values) != len(self.parts):
            return False
        return all(any(p.matches(v) for v in values) for p in self.parts)

    def distance(self, values: list[str] | None) -> float:
        if self.matches(values):
            return 0.0
        if self.single is not None:
            if not values:
                return self.single.distance(None)
            return min(self.single.distance(v) for v in values)
        return 1.0

    def describe(self) -> str:
        if self.single is not None:
            return self.single.describe()
        return f"{self.op} [" + ", ".join(p.describe() for p in self.parts) + "]"


# ---------------------------------------------------------------------------------------------
# Parsing


def _did_you_mean(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _want_str(value: Any, path: str, what: str) -> str:
    if not isinstance(value, str):
        raise MappingError(f"{what} must be a string, found {json.dumps(value)}", json_path=path)
    return value


def _want_bool(obj: dict[str, Any], key: str, path: str) -> bool:
    value = obj.get(key, False)
    if not isinstance(value, bool):
        raise MappingError(f"'{key}' must be true or false, found {json.dumps(value)}", json_path=f"{path}.{key}")
    return value


def compile_regex(pattern: str, path: str) -> re.Pattern[str]:
    """Compile a Java-style regex the way WireMock uses it (``.`` spans newlines)."""
    try:
        return re.compile(pattern, re.DOTALL)
    except re.error as exc:
        raise MappingError(
            f"invalid regular expression {pattern!r}: {exc}",
            json_path=path,
            hint="escape special characters such as ( [ { . * + ? with a backslash",
        ) from None


def _operator_of(obj: dict[str, Any], path: str, allowed: Sequence[str]) -> str:
    ops = [k for k in obj if k in allowed or k in MULTI_OPERATORS or k in UNSUPPORTED]
    if len(ops) > 1:
        raise MappingError(
            f"a matcher must have exactly one operator, found {', '.join(repr(o) for o in ops)}",
            json_path=path,
            hint="split them into several matchers, or combine them with 'and' / 'or'",
        )
    if not ops:
        unknown = [k for k in obj if k != "expression"]
        if unknown:
            raise MappingError(
                f"unknown matcher '{unknown[0]}'{_did_you_mean(unknown[0], list(allowed))}",
                json_path=path,
                hint="use one of: " + ", ".join(allowed),
            )
        raise MappingError(
            'empty matcher: expected an operator such as {"equalTo": "..."}',
            json_path=path,
            hint="use one of: " + ", ".join(allowed),
        )
    op = ops[0]
    if op in UNSUPPORTED:
        raise MappingError(
            f"matcher '{op}' is not supported by stackrig's stub server",
            json_path=path,
            hint="use matches / equalTo / matchesJsonPath instead, or run the real WireMock for this stub",
        )
    return op


def _check_modifiers(obj: dict[str, Any], op: str, path: str, extra: Sequence[str] = ()) -> None:
    allowed = set(_MODIFIERS.get(op, ())) | {op} | set(extra)
    for key in obj:
        if key not in allowed:
            raise MappingError(
                f"unknown option '{key}' for matcher '{op}'{_did_you_mean(key, sorted(allowed - {op}))}",
                json_path=path,
                hint=f"'{op}' accepts: {', '.join(sorted(allowed - {op})) or 'no options'}",
            )


def parse_value_pattern(obj: Any, path: str) -> ValuePattern:
    """Build a matcher from its WireMock JSON form, raising MappingError with the JSON path."""
    if not isinstance(obj, dict):
        raise MappingError(
            f'a matcher must be an object like {{"equalTo": "..."}}, found {json.dumps(obj)}',
            json_path=path,
        )
    op = _operator_of(obj, path, SINGLE_OPERATORS)
    if op in MULTI_OPERATORS:
        raise MappingError(
            f"'{op}' matches repeated values and is only allowed on queryParameters, headers and cookies",
            json_path=path,
        )
    arg = obj[op]
    sub = f"{path}.{op}"
    builder = _BUILDERS[op]
    return builder(obj, arg, sub, path)


def _b_equal_to(obj: dict[str, Any], arg: Any, sub: str, path: str) -> ValuePattern:
    _check_modifiers(obj, "equalTo", path)
    return EqualTo(_want_str(arg, sub, "equalTo"), _want_bool(obj, "caseInsensitive", path))


def _b_binary(obj: dict[str, Any], arg: Any, sub: str, path: str) -> ValuePattern:
    _check_modifiers(obj, "binaryEqualTo", path)
    try:
        return BinaryEqualTo(_want_str(arg, sub, "binaryEqualTo"))
    except ValueError:
        raise MappingError("binaryEqualTo must be base64", json_path=sub) from None


def _b_simple(cls: type[ValuePattern]) -> Callable[[dict[str, Any], Any, str, str], ValuePattern]:
    def build(obj: dict[str, Any], arg: Any, sub: str, path: str) -> ValuePattern:
        _check_modifiers(obj, cls.op, path)
        return cls(_want_str(arg, sub, cls.op))

    return build


def _b_regex(cls: type[Matches]) -> Callable[[dict[str, Any], Any, str, str], ValuePattern]:
    def build(obj: dict[str, Any], arg: Any, sub: str, path: str) -> ValuePattern:
        _check_modifiers(obj, cls.op, path)
        text = _want_str(arg, sub, cls.op)
        return cls(text, compile_regex(text, sub))

    return build


def _b_absent(obj: dict[str, Any], arg: Any, sub: str, path: str) -> ValuePattern:
    _check_modifiers(obj, "absent", path)
    if arg is not True and arg is not False:
        raise MappingError(f"absent must be true, found {json.dumps(arg)}", json_path=sub)
    if arg is False:
        raise MappingError(
            "absent: false is not a matcher", json_path=sub, hint='use {"matches": ".*"} for \'present\''
        )
    return Absent(True)


def _b_json(obj: dict[str, Any], arg: Any, sub: str, path: str) -> ValuePattern:
    _check_modifiers(obj, "equalToJson", path)
    expected = arg
    if isinstance(arg, str):
        try:
            expected = json.loads(arg)
        except ValueError as exc:
            raise MappingError(f"equalToJson is not valid JSON: {exc}", json_path=sub) from None
    return EqualToJson(
        expected, _want_bool(obj, "ignoreArrayOrder", path), _want_bool(obj, "ignoreExtraElements", path)
    )


def _nested(arg: dict[str, Any], sub: str) -> ValuePattern | None:
    rest = {k: v for k, v in arg.items() if k != "expression"}
    if not rest:
        return None
    return parse_value_pattern(rest, sub)


def _b_jsonpath(obj: dict[str, Any], arg: Any, sub: str, path: str) -> ValuePattern:
    _check_modifiers(obj, "matchesJsonPath", path)
    if isinstance(arg, str):
        expression, nested = arg, None
    elif isinstance(arg, dict) and isinstance(arg.get("expression"), str):
        expression, nested = arg["expression"], _nested(arg, sub)
    else:
        raise MappingError('matchesJsonPath must be a string or {"expression": "$...", <matcher>}', json_path=sub)
    try:
        return MatchesJsonPath(arg, expression, nested)
    except JsonPathError as exc:
        raise MappingError(f"invalid JSONPath {expression!r}: {exc}", json_path=sub) from None


def _b_xml(obj: dict[str, Any], arg: Any, sub: str, path: str) -> ValuePattern:
    _check_modifiers(obj, "equalToXml", path)
    text = _want_str(arg, sub, "equalToXml")
    try:
        xml_equal(text, text)
    except XmlError as exc:
        raise MappingError(f"equalToXml is not well-formed XML: {exc}", json_path=sub) from None
    return EqualToXml(text)


def _b_xpath(obj: dict[str, Any], arg: Any, sub: str, path: str) -> ValuePattern:
    _check_modifiers(obj, "matchesXPath", path)
    namespaces = obj.get("xPathNamespaces") or {}
    if not isinstance(namespaces, dict):
        raise MappingError("xPathNamespaces must be an object of prefix: uri", json_path=f"{path}.xPathNamespaces")
    if isinstance(arg, str):
        expression, nested = arg, None
    elif isinstance(arg, dict) and isinstance(arg.get("expression"), str):
        expression, nested = arg["expression"], _nested(arg, sub)
    else:
        raise MappingError('matchesXPath must be a string or {"expression": "/...", <matcher>}', json_path=sub)
    try:
        return MatchesXPath(arg, expression, namespaces, nested)
    except XmlError as exc:
        raise MappingError(f"invalid XPath {expression!r}: {exc}", json_path=sub) from None


def _b_logic(cls: type[And]) -> Callable[[dict[str, Any], Any, str, str], ValuePattern]:
    def build(obj: dict[str, Any], arg: Any, sub: str, path: str) -> ValuePattern:
        _check_modifiers(obj, cls.op, path)
        if not isinstance(arg, list) or not arg:
            raise MappingError(f"'{cls.op}' must be a non-empty list of matchers", json_path=sub)
        return cls(arg, [parse_value_pattern(p, f"{sub}[{i}]") for i, p in enumerate(arg)])

    return build


def _b_not(obj: dict[str, Any], arg: Any, sub: str, path: str) -> ValuePattern:
    _check_modifiers(obj, "not", path)
    return Not(arg, parse_value_pattern(arg, sub))


_BUILDERS: dict[str, Callable[[dict[str, Any], Any, str, str], ValuePattern]] = {
    "equalTo": _b_equal_to,
    "binaryEqualTo": _b_binary,
    "contains": _b_simple(Contains),
    "doesNotContain": _b_simple(DoesNotContain),
    "matches": _b_regex(Matches),
    "doesNotMatch": _b_regex(DoesNotMatch),
    "absent": _b_absent,
    "equalToJson": _b_json,
    "matchesJsonPath": _b_jsonpath,
    "equalToXml": _b_xml,
    "matchesXPath": _b_xpath,
    "and": _b_logic(And),
    "or": _b_logic(Or),
    "not": _b_not,
}


def parse_multi_pattern(obj: Any, path: str) -> MultiPattern:
    """A matcher for a repeatable field: a single-value matcher, or ``hasExactly`` / ``includes``."""
    if isinstance(obj, dict):
        multi = [k for k in MULTI_OPERATORS if k in obj]
        if multi:
            op = multi[0]
            if len(obj) != 1:
                raise MappingError(f"'{op}' takes no other keys", json_path=path)
            parts = obj[op]
            if not isinstance(parts, list) or not parts:
                raise MappingError(f"'{op}' must be a non-empty list of matchers", json_path=f"{path}.{op}")
            return MultiPattern(None, op, [parse_value_pattern(p, f"{path}.{op}[{i}]") for i, p in enumerate(parts)])
    return MultiPattern(parse_value_pattern(obj, path))
