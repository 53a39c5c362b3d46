"""Parse WireMock's matcher JSON (``{"equalTo": ...}``, ``{"matchesJsonPath": {...}}``, ``hasExactly``
...) into matcher objects, naming the JSON path of any mistake.

This module is the front door to the matchers: the classes themselves live by family in
``_matchers_base`` (the protocol), ``_matchers_string``, ``_matchers_json``, ``_matchers_xml`` and
``_matchers_logic``, and are re-exported here.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from ._errors import MappingError
from ._jsonpath import JsonPathError
from ._matchers_base import MultiPattern, ValuePattern, similarity_distance
from ._matchers_json import EqualToJson, MatchesJsonPath, json_equal
from ._matchers_logic import And, Not, Or
from ._matchers_string import Absent, BinaryEqualTo, Contains, DoesNotContain, DoesNotMatch, EqualTo, Matches
from ._matchers_xml import EqualToXml, MatchesXPath
from ._xml import XmlError, xml_equal

__all__ = [
    "MULTI_OPERATORS",
    "SINGLE_OPERATORS",
    "Absent",
    "And",
    "BinaryEqualTo",
    "Contains",
    "DoesNotContain",
    "DoesNotMatch",
    "EqualTo",
    "EqualToJson",
    "EqualToXml",
    "Matches",
    "MatchesJsonPath",
    "MatchesXPath",
    "MultiPattern",
    "Not",
    "Or",
    "ValuePattern",
    "compile_regex",
    "json_equal",
    "parse_multi_pattern",
    "parse_value_pattern",
    "similarity_distance",
]

# The old private name, still imported by callers inside the package.
_similarity_distance = similarity_distance

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
