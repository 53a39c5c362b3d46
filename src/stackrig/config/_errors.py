"""msgspec's validation errors, said the way a stack-file author needs them.

msgspec reports one error as text (``Expected `str`, got `int` - at `$.database```); this
module turns it into the key path, what was expected, what was found, and the keys that
the table does accept (for "did you mean").
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from ._spec import SpecError

__all__ = ["Problem", "explain", "describe", "did_you_mean", "closest"]

_AT = re.compile(r"^(?P<msg>.*?)(?: - at `(?P<path>\$[^`]*)`)?$", re.S)
_PATH_PART = re.compile(r"\.([^.\[]+)|\[(\d+|\.\.\.)\]")
_UNKNOWN = re.compile(r"^Object contains unknown field `(?P<key>[^`]+)`$")
_MISSING = re.compile(r"^Object missing required field `(?P<key>[^`]+)`$")
_EXPECTED = re.compile(r"^Expected `(?P<types>[^`]+)`(?P<constraint>[^,]*?)(?:, got `(?P<got>[^`]+)`)?$")
_ENUM = re.compile(r"^Invalid enum value (?P<value>.+)$")

_TYPE_WORDS = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "array": "an array",
    "object": "a table",
}


def closest(word: str, options: Iterable[str]) -> str | None:
    import difflib  # only when there is a mistake to explain

    found = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return found[0] if found else None


def did_you_mean(word: str, options: Iterable[str]) -> str:
    best = closest(word, options)
    return f" (did you mean '{best}'?)" if best else ""


def describe(value: object) -> str:
    """A TOML value as a person reads it: 'a string 'x'', 'an integer 5', 'a table'."""
    if isinstance(value, bool):
        return f"a boolean {'true' if value else 'false'}"
    if isinstance(value, str):
        return f"a string {value!r}"
    if isinstance(value, int):
        return f"an integer {value}"
    if isinstance(value, float):
        return f"a number {value:g}"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, Mapping):
        return "a table"
    return type(value).__name__


@dataclass(frozen=True)
class Problem:
    """One validation error: where (keys under the table), what, and the fix."""

    keys: tuple[str | int, ...]
    message: str
    hint: str | None = None


def _struct_types(tp: Any) -> list[type[msgspec.Struct]]:
    """The Struct classes a (possibly Optional/Union/Annotated) type admits."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _struct_types(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        return [s for arg in typing.get_args(tp) for s in _struct_types(arg)]
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        return [tp]
    return []


def _field_type(model: Any, keys: Sequence[str | int]) -> Any:
    """The declared type at `keys` below `model` (None when it cannot be followed)."""
    current: Any = model
    for key in keys:
        origin = typing.get_origin(current)
        if origin is typing.Annotated:
            current = typing.get_args(current)[0]
            origin = typing.get_origin(current)
        if origin in (typing.Union, types.UnionType) and not _struct_types(current):
            dicts = [a for a in typing.get_args(current) if typing.get_origin(a) is dict]
            if dicts:
                current, origin = dicts[0], dict
        if origin is dict and not isinstance(key, int):  # a table keyed by names: every key has the value type
            args = typing.get_args(current)
            current = args[1] if len(args) == 2 else None
            continue
        if isinstance(key, int) or key == "...":
            args = typing.get_args(current)
            if origin in (list, tuple) and args:
                current = args[0]
            elif origin is dict and len(args) == 2:
                current = args[1]
            elif origin in (typing.Union, types.UnionType):
                seq = [a for a in args if typing.get_origin(a) in (list, dict)]
                if not seq:
                    return None
                a = typing.get_args(seq[0])
                current = a[-1] if a else None
            else:
                return None
            continue
        structs = _struct_types(current)
        if not structs:
            return None
        fields = {f.name: f.type for f in msgspec.structs.fields(structs[0])}
        if key not in fields:
            return None
        current = fields[key]
    return current


def field_names(model: Any, keys: Sequence[str | int]) -> list[str]:
    """The keys the table at `keys` accepts."""
    structs = _struct_types(_field_type(model, keys)) if keys else _struct_types(model)
    if not structs:
        return []
    return [f.name for f in msgspec.structs.fields(structs[0]) if f.name != "name"]


def _value_at(data: Any, keys: Sequence[str | int]) -> Any:
    node = data
    for key in keys:
        if isinstance(node, Mapping) and key in node:
            node = node[key]
        elif isinstance(node, list) and isinstance(key, int) and key < len(node):
            node = node[key]
        else:
            return None
    return node


def _resolve_dict_key(model: Any, data: Any, keys: list[str | int]) -> list[str | int]:
    """msgspec writes a bad dict value's key as `[...]`: find the key whose value fails."""
    if "..." not in keys:
        return keys
    i = keys.index("...")
    table = _value_at(data, keys[:i])
    value_type = _field_type(model, [*keys[:i], "..."])
    if isinstance(table, Mapping) and value_type is not None:
        for k, v in table.items():
            try:
                msgspec.convert(v, value_type, strict=True)
            except msgspec.ValidationError:
                return _resolve_dict_key(model, data, [*keys[:i], str(k), *keys[i + 1:]])
    return keys[:i]


def _parse_path(path: str | None) -> list[str | int]:
    if not path:
        return []
    keys: list[str | int] = []
    for m in _PATH_PART.finditer(path[1:]):
        name, index = m.group(1), m.group(2)
        if name is not None:
            keys.append(name)
        elif index == "...":
            keys.append("...")
        else:
            keys.append(int(index))
    return keys


def _expected(types_text: str) -> list[str]:
    words = [_TYPE_WORDS.get(t.strip(), t.strip()) for t in types_text.split("|") if t.strip() != "null"]
    return words or ["a value"]


def explain(model: Any, data: Mapping[str, Any], exc: msgspec.ValidationError) -> Problem:
    """What `exc` (from converting `data` to `model`) means, located under the table."""
    m = _AT.match(str(exc))
    text = m.group("msg") if m else str(exc)
    keys = _resolve_dict_key(model, data, _parse_path(m.group("path") if m else None))
    cause = exc.__cause__
    if isinstance(cause, SpecError):  # a spec's own check names the key itself
        return Problem((*keys, cause.key) if cause.key else tuple(keys), str(cause))
    unknown = _UNKNOWN.match(text)
    if unknown:
        key = unknown.group("key")
        options = field_names(model, keys)
        return Problem((*keys, key), f"unknown key '{key}'{did_you_mean(key, options)}",
                       hint=f"remove it, or use one of: {', '.join(sorted(options))}")
    missing = _MISSING.match(text)
    if missing:
        key = missing.group("key")
        return Problem((*keys, key), f"missing required key '{key}'", hint=f"add `{key} = ...`")
    expected = _EXPECTED.match(text)
    found = _value_at(data, keys)
    last = str(keys[-1]) if keys else "the value"
    if expected:
        words = _expected(expected.group("types"))
        constraint = expected.group("constraint").strip()
        want = " or ".join(words) + (f" {constraint}" if constraint else "")
        hint = f"write `{last}` as {words[0]}" + (f" {constraint}" if constraint else "")
        return Problem(tuple(keys), f"expected {want}, found {describe(found)}", hint=hint)
    enum = _ENUM.match(text)
    if enum:
        options = _literal_options(_field_type(model, keys))
        value = str(found)
        return Problem(tuple(keys), f"{value!r} is not one of {', '.join(map(repr, options))}"
                       f"{did_you_mean(value, options)}", hint=f"use one of: {', '.join(options)}")
    return Problem(tuple(keys), text)


def _literal_options(tp: Any) -> list[str]:
    if typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    if typing.get_origin(tp) is typing.Literal:
        return [str(a) for a in typing.get_args(tp)]
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return [o for a in typing.get_args(tp) for o in _literal_options(a)]
    return []
