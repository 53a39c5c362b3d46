"""Parse the Handlebars subset of WireMock's ``response-template`` into a tree: text, ``{{expr}}``
nodes (helper calls with positional, ``key=value`` and ``(sub expression)`` arguments, paths and
literals) and ``{{#block}}...{{else}}...{{/block}}`` nodes.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["Block", "Expr", "Lit", "PathRef", "TemplateError", "parse"]


class TemplateError(ValueError):
    """A template that does not parse."""


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


class Expr:
    """A helper call or a path: ``name arg ... key=value``."""

    def __init__(self, parts: list[Any], hashes: dict[str, Any]) -> None:
        self.parts = parts
        self.hashes = hashes


class PathRef:
    def __init__(self, text: str) -> None:
        self.text = text
        self.segments = _split_path(text)


class Lit:
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


def _parse_expr(text: str) -> Expr:
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
            item = Expr(sub_parts, sub_hashes)
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
            item = Lit(re.sub(r"\\(.)", r"\1", raw))
        elif m.group("num") is not None:
            num = m.group("num")
            item = Lit(float(num) if "." in num else int(num))
        else:
            word = m.group("path")
            if word in ("true", "false"):
                item = Lit(word == "true")
            elif word in ("null", "undefined"):
                item = Lit(None)
            else:
                item = PathRef(word)
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
    return Expr(parts, hashes)


class Block:
    def __init__(self, name: str, expr: Expr) -> None:
        self.name = name
        self.expr = expr
        self.body: list[Any] = []
        self.inverse: list[Any] = []
        self.in_else = False


_MUSTACHE = re.compile(r"\{\{\{(.*?)\}\}\}|\{\{(!--.*?--|.*?)\}\}", re.DOTALL)


def parse(source: str) -> list[Any]:
    root: list[Any] = []
    stack: list[Block] = []

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
            if not isinstance(head, PathRef):
                raise TemplateError(f"block needs a helper name: {{{{{inner}}}}}")
            block = Block(head.text, Expr(expr.parts[1:], expr.hashes))
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
