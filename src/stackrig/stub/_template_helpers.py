"""The template helpers (``jsonPath``, ``now``, ``randomValue``, ``math``, ``eq`` ...): plain functions
of already-evaluated arguments, registered by name in :data:`HELPERS`.
"""

from __future__ import annotations

import base64 as _b64
import datetime as _dt
import json
import random
import re
import string
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, unquote

from ._jackson import jackson_pretty
from ._jsonpath import JsonPathError, compile_json_path
from ._request import NOT_JSON
from ._template_values import render_value, step, truthy

__all__ = ["HELPERS"]


def _json_path(source: Any, expression: Any, default: Any = None, **_: Any) -> Any:
    doc = source
    if isinstance(source, str):
        try:
            doc = json.loads(source)
        except ValueError:
            return default
    if doc is NOT_JSON:
        return default
    try:
        found = compile_json_path(str(expression))(doc)
    except JsonPathError:
        return default
    if not found:
        return default
    value = found[0] if len(found) == 1 and not _is_multi(str(expression)) else found
    if isinstance(value, (dict, list)):
        return jackson_pretty(value)
    return value


def _is_multi(expression: str) -> bool:
    return any(tok in expression for tok in ("..", "[*]", "[?", "*"))


_ALPHABETS = {
    "ALPHANUMERIC": string.ascii_lowercase + string.digits,
    "ALPHABETIC": string.ascii_lowercase,
    "NUMERIC": string.digits,
    "HEXADECIMAL": "0123456789abcdef",
    "ALPHANUMERIC_AND_SYMBOLS": string.ascii_letters + string.digits + string.punctuation,
}


def _random_value(length: Any = 36, type: Any = "ALPHANUMERIC", uppercase: Any = False, **_: Any) -> str:
    kind = str(type).upper()
    if kind == "UUID":
        return str(uuid.uuid4())
    alphabet = _ALPHABETS.get(kind, _ALPHABETS["ALPHANUMERIC"])
    value = "".join(random.choices(alphabet, k=int(length)))
    return value.upper() if uppercase is True or uppercase == "true" else value


_JAVA_DATE = re.compile(r"'[^']*'|yyyy|yy|MMMM|MMM|MM|M|dd|d|HH|H|hh|mm|ss|SSS|EEEE|EEE|a|XXX|Z|z|.", re.DOTALL)
_JAVA_TO_STRFTIME = {
    "yyyy": "%Y",
    "yy": "%y",
    "MMMM": "%B",
    "MMM": "%b",
    "MM": "%m",
    "dd": "%d",
    "HH": "%H",
    "hh": "%I",
    "mm": "%M",
    "ss": "%S",
    "EEEE": "%A",
    "EEE": "%a",
    "a": "%p",
    "Z": "%z",
    "z": "%Z",
}


def _format_date(when: _dt.datetime, fmt: str | None) -> str:
    if not fmt:
        return when.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if fmt == "epoch":
        return str(int(when.timestamp() * 1000))
    if fmt == "unix":
        return str(int(when.timestamp()))
    out: list[str] = []
    for tok in _JAVA_DATE.findall(fmt):
        if tok.startswith("'"):
            out.append(tok[1:-1].replace("%", "%%") or "'")
        elif tok == "SSS":
            out.append(f"{when.microsecond // 1000:03d}")
        elif tok == "M":
            out.append(str(when.month))
        elif tok == "d":
            out.append(str(when.day))
        elif tok == "H":
            out.append(str(when.hour))
        elif tok == "XXX":
            off = when.strftime("%z")
            out.append("Z" if off in ("+0000", "") else off[:3] + ":" + off[3:])
        else:
            out.append(_JAVA_TO_STRFTIME.get(tok, tok.replace("%", "%%")))
    return when.strftime("".join(out))


_OFFSET_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800}


def _apply_offset(when: _dt.datetime, offset: str) -> _dt.datetime:
    m = re.fullmatch(r"\s*(-?\d+)\s+(\w+?)s?\s*", offset)
    if not m:
        return when
    amount, unit = int(m.group(1)), m.group(2).lower()
    if unit in _OFFSET_UNITS:
        return when + _dt.timedelta(seconds=amount * _OFFSET_UNITS[unit])
    if unit in ("month", "year"):
        months = amount * (12 if unit == "year" else 1)
        y, mo = divmod(when.month - 1 + months, 12)
        year, month = when.year + y, mo + 1
        import calendar

        day = min(when.day, calendar.monthrange(year, month)[1])
        return when.replace(year=year, month=month, day=day)
    return when


def _now(format: Any = None, offset: Any = None, timezone: Any = None, **_: Any) -> str:
    when = _dt.datetime.now(_dt.UTC)
    if offset:
        when = _apply_offset(when, str(offset))
    if timezone:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            when = when.astimezone(ZoneInfo(str(timezone)))
        except (ZoneInfoNotFoundError, ValueError):
            pass  # WireMock also falls back to UTC for an unknown zone
    return _format_date(when, str(format) if format else None)


def _num(value: Any) -> float:
    try:
        return float(str(value))
    except ValueError:
        return 0.0


def _math(a: Any, op: Any, b: Any, **_: Any) -> Any:
    x, y = _num(a), _num(b)
    ops: dict[str, Callable[[float, float], float]] = {
        "+": lambda p, q: p + q,
        "-": lambda p, q: p - q,
        "*": lambda p, q: p * q,
        "/": lambda p, q: p / q if q else 0.0,
        "%": lambda p, q: p % q if q else 0.0,
    }

    def fallback(p: float, q: float) -> float:
        return 0.0

    result = ops.get(str(op), fallback)(x, y)
    return int(result) if result.is_integer() else result


def _size(value: Any = None, **_: Any) -> int:
    return len(value) if isinstance(value, (str, list, dict)) else 0


def _regex_extract(value: Any, regex: Any, *rest: Any, default: Any = None, **_: Any) -> Any:
    m = re.search(str(regex), render_value(value))
    if not m:
        return default
    return m.group(1) if m.groups() else m.group(0)


def _text(value: Any) -> str:
    return render_value(value)


def _default(value: Any, fallback: Any = "", **_: Any) -> Any:
    return value if truthy(value) else fallback


HELPERS: dict[str, Callable[..., Any]] = {
    "jsonPath": _json_path,
    "randomValue": _random_value,
    "randomInt": lambda lower=0, upper=2**31 - 1, **_: random.randint(
        int(lower), int(upper) - 1 if int(upper) > int(lower) else int(lower)
    ),
    "randomDecimal": lambda lower=0.0, upper=1.0, **_: random.uniform(_num(lower), _num(upper)),
    "pickRandom": lambda *items, **_: (
        random.choice(items[0] if len(items) == 1 and isinstance(items[0], list) else items) if items else ""
    ),
    "now": _now,
    "upper": lambda v="", **_: _text(v).upper(),
    "lower": lambda v="", **_: _text(v).lower(),
    "capitalize": lambda v="", **_: _text(v)[:1].upper() + _text(v)[1:],
    "trim": lambda v="", **_: _text(v).strip(),
    "size": _size,
    "join": lambda *a, **_: (
        str(a[0]).join(_text(x) for x in (a[1] if len(a) == 2 and isinstance(a[1], list) else a[1:])) if a else ""
    ),
    "base64": lambda v="", decode=False, **_: (
        _b64.b64decode(_text(v)).decode("utf-8", "replace")
        if decode in (True, "true")
        else _b64.b64encode(_text(v).encode()).decode("ascii")
    ),
    "urlEncode": lambda v="", decode=False, **_: (
        unquote(_text(v)) if decode in (True, "true") else quote(_text(v), safe="")
    ),
    "regexExtract": _regex_extract,
    "contains": lambda a="", b="", **_: _text(b) in (a if isinstance(a, list) else _text(a)),
    "matches": lambda a="", b="", **_: re.fullmatch(_text(b), _text(a), re.DOTALL) is not None,
    "eq": lambda a=None, b=None, **_: _text(a) == _text(b),
    "ne": lambda a=None, b=None, **_: _text(a) != _text(b),
    "neq": lambda a=None, b=None, **_: _text(a) != _text(b),
    "gt": lambda a=0, b=0, **_: _num(a) > _num(b),
    "gte": lambda a=0, b=0, **_: _num(a) >= _num(b),
    "lt": lambda a=0, b=0, **_: _num(a) < _num(b),
    "lte": lambda a=0, b=0, **_: _num(a) <= _num(b),
    "and": lambda *a, **_: all(truthy(x) for x in a),
    "or": lambda *a, **_: any(truthy(x) for x in a),
    "not": lambda a=None, **_: not truthy(a),
    "math": _math,
    "toJson": lambda v=None, **_: json.dumps(v),
    "lookup": lambda obj=None, key="", **_: step(obj, str(key)),
    "default": _default,
}
