"""The subset of Handlebars that WireMock's ``response-template`` transformer offers.

Supported: ``{{path.to.value}}`` (also ``{{{...}}}`` — WireMock never HTML-escapes),
``[n]``/``[Name]`` segments, helpers with positional and ``key=value`` arguments and
``(sub expressions)``, the blocks ``#if``/``#unless``/``#each``/``#with`` with ``{{else}}``, any
boolean helper used as a block (``{{#eq a 'x'}}...{{/eq}}``), and comments ``{{! ... }}``.

Helpers: ``jsonPath``, ``randomValue``, ``randomInt``, ``randomDecimal``, ``pickRandom``, ``now``,
``upper``, ``lower``, ``capitalize``, ``trim``, ``size``, ``join``, ``base64``, ``urlEncode``,
``regexExtract``, ``contains``, ``matches``, ``eq``, ``ne``, ``gt``, ``gte``, ``lt``, ``lte``, ``and``,
``or``, ``not``, ``math``, ``toJson``, ``lookup``, ``default``.
"""

from __future__ import annotations

import base64 as _b64
import datetime as _dt
import functools
import json
import random
import re
import string
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, unquote

from ._jsonpath import JsonPathError, compile_json_path
from ._request import NOT_JSON, Request

__all__ = ["TemplateError", "compile_template", "render_value", "request_model"]


class TemplateError(ValueError):
    """A template that does not parse."""


class ListOrSingle(list[Any]):
    """A repeatable value (query parameter, header): renders as its first value, indexes as a list."""

    def __str__(self) -> str:
        return render_value(self[0]) if self else ""


class PathValue(str):
    """``request.path``: renders as the path; ``.[n]`` is a segment, ``.name`` a template variable."""

    segments: list[str]
    variables: dict[str, str]

    def lookup(self, key: str) -> Any:
        if key.isdigit():
            i = int(key)
            return self.segments[i] if i < len(self.segments) else None
        return self.variables.get(key)


class CaseInsensitiveDict(dict[str, Any]):
    def lookup(self, key: str) -> Any:
        return self.get(key.lower())


def request_model(req: Request, path_vars: dict[str, str], base_url: str) -> dict[str, Any]:
    """The ``request`` object that templates see."""
    path = PathValue(req.path)
    path.segments = req.path_segments
    path.variables = path_vars
    headers = CaseInsensitiveDict()
    for name, values in req.header_map.items():
        headers[name] = ListOrSingle(values)
    host, _, port = base_url.rpartition("//")[2].partition(":")
    return {
        "id": str(uuid.uuid4()),
        "url": req.url,
        "path": path,
        "pathSegments": req.path_segments,
        "method": req.method,
        "query": {k: ListOrSingle(v) for k, v in req.query.items()},
        "headers": headers,
        "cookies": {k: ListOrSingle(v) for k, v in req.cookies.items()},
        "body": req.text,
        "bodyAsBase64": _b64.b64encode(req.body).decode("ascii"),
        "baseUrl": base_url,
        "host": host,
        "port": port,
        "scheme": "http",
        "clientIp": req.client_ip,
    }


def render_value(value: Any) -> str:
    """How Java/Handlebars prints a value."""
    if value is None:
        return ""
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, ListOrSingle):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(render_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={render_value(v)}" for k, v in value.items()) + "}"
    return str(value)


def _truthy(value: Any) -> bool:
    if isinstance(value, (list, dict, str)):
        return len(value) > 0
    return value is not None and value is not False and value != 0


# ---------------------------------------------------------------------------------------------
# Parsing

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      | (?P<open>\()
      | (?P<close>\))
      | (?P<hash>[A-Za-z_][\w-]*)=
      | (?P<num>-?\d+(?:\.\d+)?)(?![\w.])
      | (?P<path>(?:[^\s()=\[\]]|\[[^\]]*\])+)
    )""",
    re.VERBOSE,
)


class _Expr:
    """A helper call or a path: ``name arg ... key=value``."""

    def __init__(self, parts: list[Any], hashes: dict[str, Any]) -> None:
        self.parts = parts
        self.hashes = hashes


class _Path:
    def __init__(self, text: str) -> None:
        self.text = text
        self.segments = _split_path(text)


class _Lit:
    def __init__(self, value: Any) -> None:
        self.value = value


def _split_path(text: str) -> list[str]:
    segments: list[str] = []
    i = 0
    buf = ""
    while i < len(text):
        c = text[i]
        if c == "[":
            end = text.index("]", i)
            segments.append(text[i + 1 : end])
            i = end + 1
            buf = ""
            if i < len(text) and text[i] == ".":
                i += 1
            continue
        if c in "./" and buf:
            segments.append(buf)
            buf = ""
        elif c not in "./":
            buf += c
        i += 1
    if buf:
        segments.append(buf)
    return segments


def _parse_expr(text: str) -> _Expr:
    pos = 0
    stack: list[tuple[list[Any], dict[str, Any], str | None]] = [([], {}, None)]
    pending_hash: str | None = None
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            if text[pos:].strip():
                raise TemplateError(f"cannot parse {text!r} at {text[pos:]!r}")
            break
        pos = m.end()
        parts, hashes, _ = stack[-1]
        item: Any
        if m.group("open"):
            stack.append(([], {}, pending_hash))
            pending_hash = None
            continue
        if m.group("close"):
            if len(stack) == 1:
                raise TemplateError(f"unbalanced ')' in {text!r}")
            sub_parts, sub_hashes, key = stack.pop()
            item = _Expr(sub_parts, sub_hashes)
            parts, hashes, _ = stack[-1]
            if key is not None:
                hashes[key] = item
            else:
                parts.append(item)
            continue
        if m.group("hash"):
            pending_hash = m.group("hash")
            continue
        if m.group("str") is not None:
            raw = m.group("str")[1:-1]
            item = _Lit(re.sub(r"\\(.)", r"\1", raw))
        elif m.group("num") is not None:
            num = m.group("num")
            item = _Lit(float(num) if "." in num else int(num))
        else:
            word = m.group("path")
            if word in ("true", "false"):
                item = _Lit(word == "true")
            elif word in ("null", "undefined"):
                item = _Lit(None)
            else:
                item = _Path(word)
        if pending_hash is not None:
            hashes[pending_hash] = item
            pending_hash = None
        else:
            parts.append(item)
    if len(stack) != 1:
        raise TemplateError(f"unbalanced '(' in {text!r}")
    parts, hashes, _ = stack[0]
    if not parts:
        raise TemplateError("empty {{ }}")
    return _Expr(parts, hashes)


class _Block:
    def __init__(self, name: str, expr: _Expr) -> None:
        self.name = name
        self.expr = expr
        self.body: list[Any] = []
        self.inverse: list[Any] = []
        self.in_else = False


_MUSTACHE = re.compile(r"\{\{\{(.*?)\}\}\}|\{\{(!--.*?--|.*?)\}\}", re.DOTALL)


def _parse(source: str) -> list[Any]:
    root: list[Any] = []
    stack: list[_Block] = []

    def current() -> list[Any]:
        if not stack:
            return root
        top = stack[-1]
        return top.inverse if top.in_else else top.body

    pos = 0
    for m in _MUSTACHE.finditer(source):
        if m.start() > pos:
            current().append(source[pos : m.start()])
        pos = m.end()
        inner = (m.group(1) if m.group(1) is not None else m.group(2)).strip()
        inner = inner.removeprefix("~")
        inner = inner.removesuffix("~")
        inner = inner.strip()
        if inner.startswith("!"):
            continue
        if inner.startswith("#"):
            expr = _parse_expr(inner[1:])
            head = expr.parts[0]
            if not isinstance(head, _Path):
                raise TemplateError(f"block needs a helper name: {{{{{inner}}}}}")
            block = _Block(head.text, _Expr(expr.parts[1:], expr.hashes))
            current().append(block)
            stack.append(block)
        elif inner.startswith("/"):
            name = inner[1:].strip()
            if not stack or stack[-1].name != name:
                raise TemplateError(f"{{{{/{name}}}}} closes nothing")
            stack.pop()
        elif inner == "else" or inner == "^":
            if not stack:
                raise TemplateError("{{else}} outside a block")
            stack[-1].in_else = True
        else:
            current().append(_parse_expr(inner))
    if pos < len(source):
        current().append(source[pos:])
    if stack:
        raise TemplateError(f"{{{{#{stack[-1].name}}}}} is never closed")
    return root


# ---------------------------------------------------------------------------------------------
# Evaluation


class _Scope:
    def __init__(self, this: Any, root: dict[str, Any], data: dict[str, Any], parent: _Scope | None) -> None:
        self.this = this
        self.root = root
        self.data = data
        self.parent = parent


def _step(value: Any, key: str) -> Any:
    if value is None:
        return None
    if isinstance(value, (PathValue, CaseInsensitiveDict)):
        return value.lookup(key)
    if isinstance(value, dict):
        if key in value:
            return value[key]
        return None
    if isinstance(value, list):
        if key.isdigit():
            i = int(key)
            return value[i] if i < len(value) else None
        if key in ("size", "length"):
            return len(value)
        if isinstance(value, ListOrSingle) and value:
            return _step(value[0], key)
        return None
    if isinstance(value, str) and key in ("length", "size"):
        return len(value)
    return None


def _resolve(path: _Path, scope: _Scope) -> Any:
    segs = path.segments
    if not segs:
        return scope.this
    first = segs[0]
    if first.startswith("@"):
        value = scope.data.get(first[1:])
        rest = segs[1:]
    elif first == "this":
        value, rest = scope.this, segs[1:]
    elif first == "..":
        value, rest = scope.parent.this if scope.parent else None, segs[1:]
    else:
        value = _step(scope.this, first)
        if value is None and isinstance(scope.root, dict):
            value = scope.root.get(first)
        rest = segs[1:]
    for seg in rest:
        value = _step(value, seg)
    return value


def _eval(item: Any, scope: _Scope) -> Any:
    if isinstance(item, _Lit):
        return item.value
    if isinstance(item, _Path):
        return _resolve(item, scope)
    if isinstance(item, _Expr):
        return _call(item, scope)
    return item


def _call(expr: _Expr, scope: _Scope) -> Any:
    head = expr.parts[0]
    if isinstance(head, _Path) and head.text in HELPERS:
        args = [_eval(a, scope) for a in expr.parts[1:]]
        kwargs = {k: _eval(v, scope) for k, v in expr.hashes.items()}
        return HELPERS[head.text](*args, **kwargs)
    if len(expr.parts) > 1:
        name = head.text if isinstance(head, _Path) else "?"
        raise TemplateError(f"unknown helper '{name}'")
    return _eval(head, scope)


def _render(nodes: list[Any], scope: _Scope, out: list[str]) -> None:
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, _Expr):
            out.append(render_value(_call(node, scope)))
        else:
            _render_block(node, scope, out)


def _render_block(block: _Block, scope: _Scope, out: list[str]) -> None:
    name = block.name
    if name in ("if", "unless", "each", "with"):
        value = _eval(block.expr.parts[0], scope) if block.expr.parts else None
    else:
        value = _call(_Expr([_Path(name), *block.expr.parts], block.expr.hashes), scope)
    if name == "each":
        items: list[tuple[Any, Any]]
        if isinstance(value, dict):
            items = list(value.items())
        elif isinstance(value, list):
            items = list(enumerate(value))
        else:
            items = []
        if not items:
            _render(block.inverse, scope, out)
        for i, (key, item) in enumerate(items):
            data = {"index": i, "key": key, "first": i == 0, "last": i == len(items) - 1}
            _render(block.body, _Scope(item, scope.root, data, scope), out)
        return
    if name == "with":
        if _truthy(value):
            _render(block.body, _Scope(value, scope.root, scope.data, scope), out)
        else:
            _render(block.inverse, scope, out)
        return
    truth = _truthy(value)
    if name == "unless":
        truth = not truth
    _render(block.body if truth else block.inverse, scope, out)


Template = Callable[[dict[str, Any]], str]


_BLOCKS = ("if", "unless", "each", "with")


def _check_helpers(nodes: list[Any]) -> None:
    """Unknown helper names are template errors at load time, not 500s at request time."""
    for node in nodes:
        if isinstance(node, _Block):
            if node.name not in _BLOCKS and node.name not in HELPERS:
                raise TemplateError(f"unknown or unsupported block helper '{node.name}'")
            _check_expr(node.expr, top=False)
            _check_helpers(node.body)
            _check_helpers(node.inverse)
        elif isinstance(node, _Expr):
            _check_expr(node, top=True)


def _check_expr(expr: _Expr, top: bool) -> None:
    items = list(expr.parts) + list(expr.hashes.values())
    head = expr.parts[0] if expr.parts else None
    if top and len(expr.parts) > 1 and isinstance(head, _Path) and head.text not in HELPERS:
        known = ", ".join(sorted(HELPERS))
        raise TemplateError(f"unknown or unsupported helper '{head.text}' (stackrig supports: {known})")
    for item in items:
        if isinstance(item, _Expr):
            _check_expr(item, top=True)


@functools.lru_cache(maxsize=1024)
def compile_template(source: str) -> Template:
    """Parse ``source`` once; the result renders it against a context such as ``{"request": ...}``."""
    nodes = _parse(source)
    _check_helpers(nodes)
    if len(nodes) == 1 and isinstance(nodes[0], str) or not nodes:
        text = nodes[0] if nodes else ""
        return lambda ctx: text

    def render(ctx: dict[str, Any]) -> str:
        out: list[str] = []
        _render(nodes, _Scope(ctx, ctx, {}, None), out)
        return "".join(out)

    return render


# ---------------------------------------------------------------------------------------------
# Helpers


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


def jackson_pretty(value: Any, level: int = 0) -> str:
    """JSON the way Jackson's default pretty printer writes it (WireMock prints objects so)."""
    if isinstance(value, dict):
        if not value:
            return "{ }"
        pad = "  " * (level + 1)
        items = [f"{pad}{json.dumps(k)} : {jackson_pretty(v, level + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + "  " * level + "}"
    if isinstance(value, list):
        if not value:
            return "[ ]"
        return "[ " + ", ".join(jackson_pretty(v, level) for v in value) + " ]"
    return json.dumps(value, ensure_ascii=False)


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
    return value if _truthy(value) else fallback


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
    "and": lambda *a, **_: all(_truthy(x) for x in a),
    "or": lambda *a, **_: any(_truthy(x) for x in a),
    "not": lambda a=None, **_: not _truthy(a),
    "math": _math,
    "toJson": lambda v=None, **_: json.dumps(v),
    "lookup": lambda obj=None, key="", **_: _step(obj, str(key)),
    "default": _default,
}
