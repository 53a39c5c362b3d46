"""Benign values: what a well-behaved client would send, from the schema (example, default, enum,
format, bounds), so that a payload's effect shows against a request the service accepts."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["benign", "wrong_type", "words"]

_FORMATS: dict[str, Any] = {
    "email": "scan@example.com",
    "idn-email": "scan@example.com",
    "uuid": "00000000-0000-4000-8000-000000000001",
    "date": "2024-01-01",
    "date-time": "2024-01-01T00:00:00Z",
    "time": "12:00:00",
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "hostname": "example.com",
    "ipv4": "127.0.0.1",
    "ipv6": "::1",
    "password": "Stackrig-scan-1",
    "byte": "c3RhY2tyaWc=",
}


def words(name: str) -> list[str]:
    """`userFileName`, `user_file-name` -> ["user", "file", "name"]."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return [w.lower() for w in re.split(r"[^A-Za-z0-9]+", spaced) if w]


def _first_type(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        if "properties" in schema:
            return "object"
        if "items" in schema:
            return "array"
        if "minimum" in schema or "maximum" in schema:
            return "number"
        return "string"
    return str(kind)


def _string(schema: dict[str, Any], name: str) -> str:
    fmt = str(schema.get("format") or "")
    if fmt in _FORMATS:
        return str(_FORMATS[fmt])
    parts = words(name)
    if parts and parts[-1] in ("id", "ids", "uuid", "number", "no", "num", "count", "page", "limit", "size"):
        value = "1"
    elif "email" in parts or "mail" in parts:
        value = "scan@example.com"
    elif parts and parts[-1] in ("url", "uri", "href", "link"):
        value = "https://example.com/"
    elif "password" in parts or "passwd" in parts or "secret" in parts:
        value = "Stackrig-scan-1"
    else:
        value = "stackrig"
    pattern = schema.get("pattern")
    if isinstance(pattern, str):
        for candidate in (value, "stackrig", "1", "a", "A", "ab", "a1", "AB12", "2024-01-01", "scan@example.com"):
            try:
                if re.search(pattern, candidate):
                    value = candidate
                    break
            except re.error:
                break
    low = schema.get("minLength")
    if isinstance(low, int) and len(value) < low:
        value = (value * (low // max(len(value), 1) + 1))[:low]
    high = schema.get("maxLength")
    if isinstance(high, int) and high >= 1 and len(value) > high:
        value = value[:high]
    return value


def _number(schema: dict[str, Any], integer: bool) -> int | float:
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    value: float = 1
    if isinstance(low, int | float) and not isinstance(low, bool):
        value = max(value, low + (1 if schema.get("exclusiveMinimum") in (True, low) else 0))
    if isinstance(high, int | float) and not isinstance(high, bool) and value > high:
        value = high - (1 if schema.get("exclusiveMaximum") in (True, high) else 0)
    multiple = schema.get("multipleOf")
    if isinstance(multiple, int | float) and multiple > 0 and not isinstance(multiple, bool):
        value = max(multiple, round(value / multiple) * multiple)
    return int(value) if integer else value


def benign(schema: dict[str, Any], name: str = "", depth: int = 0) -> Any:
    """A value the schema accepts for the parameter or field `name`."""
    for key in ("example", "default", "const"):
        if key in schema:
            return schema[key]
    examples = schema.get("examples")
    if isinstance(examples, list) and examples:
        return examples[0]
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return next((v for v in enum if v is not None), enum[0])
    for key in ("oneOf", "anyOf"):
        options = schema.get(key)
        if isinstance(options, list) and options and "type" not in schema:
            chosen = next((o for o in options if isinstance(o, dict) and o.get("type") != "null"), options[0])
            return benign(chosen, name, depth)
    kind = _first_type(schema)
    if kind == "string":
        return _string(schema, name)
    if kind in ("integer", "number"):
        return _number(schema, kind == "integer")
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    if kind == "array":
        items: dict[str, Any] = schema["items"] if isinstance(schema.get("items"), dict) else {}
        count = max(1, int(schema.get("minItems") or 1))
        return [benign(items, name, depth + 1) for _ in range(min(count, 3))] if depth < 4 else []
    if kind == "object":
        props = schema.get("properties") or {}
        if depth >= 4:
            return {}
        return {k: benign(v, k, depth + 1) for k, v in props.items()
                if isinstance(v, dict) and not v.get("readOnly")}
    return "stackrig"


def wrong_type(schema: dict[str, Any], location: str) -> Any | None:
    """A value of a type the schema does not allow, or None when every type goes (or the wire has only
    strings: a string where a string is expected)."""
    kind = _first_type(schema)
    if "enum" in schema or "const" in schema:
        return "stackrig-not-in-the-enum"
    if kind in ("integer", "number", "boolean"):
        return "stackrig"
    if location != "body":
        return None
    if kind == "string":
        return {"stackrig": 1}
    if kind in ("array", "object"):
        return "stackrig"
    return None
