"""The subset of Handlebars that WireMock's ``response-template`` transformer offers.

Supported: ``{{path.to.value}}`` (also ``{{{...}}}`` — WireMock never HTML-escapes),
``[n]``/``[Name]`` segments, helpers with positional and ``key=value`` arguments and
``(sub expressions)``, the blocks ``#if``/``#unless``/``#each``/``#with`` with ``{{else}}``, any
boolean helper used as a block (``{{#eq a 'x'}}...{{/eq}}``), and comments ``{{! ... }}``.

Helpers: ``jsonPath``, ``randomValue``, ``randomInt``, ``randomDecimal``, ``pickRandom``, ``now``,
``upper``, ``lower``, ``capitalize``, ``trim``, ``size``, ``join``, ``base64``, ``urlEncode``,
``regexExtract``, ``contains``, ``matches``, ``eq``, ``ne``, ``gt``, ``gte``, ``lt``, ``lte``, ``and``,
``or``, ``not``, ``math``, ``toJson``, ``lookup``, ``default``.

This module compiles a template (parse, check the helper names, bind the renderer); the parser,
the renderer, the helpers and the value model are ``_template_parse``, ``_template_render``,
``_template_helpers`` and ``_template_values``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ._jackson import jackson_pretty
from ._template_helpers import HELPERS
from ._template_parse import Block, Expr, PathRef, TemplateError, parse
from ._template_render import Scope, render_nodes
from ._template_values import render_value, request_model

__all__ = [
    "HELPERS",
    "Template",
    "TemplateError",
    "compile_template",
    "jackson_pretty",
    "render_value",
    "request_model",
]


Template = Callable[[dict[str, Any]], str]


_BLOCKS = ("if", "unless", "each", "with")


def _check_helpers(nodes: list[Any]) -> None:
    """Unknown helper names are template errors at load time, not 500s at request time."""
    for node in nodes:
        if isinstance(node, Block):
            if node.name not in _BLOCKS and node.name not in HELPERS:
                raise TemplateError(f"unknown or unsupported block helper '{node.name}'")
            _check_expr(node.expr, top=False)
            _check_helpers(node.body)
            _check_helpers(node.inverse)
        elif isinstance(node, Expr):
            _check_expr(node, top=True)


def _check_expr(expr: Expr, top: bool) -> None:
    items = list(expr.parts) + list(expr.hashes.values())
    head = expr.parts[0] if expr.parts else None
    if top and len(expr.parts) > 1 and isinstance(head, PathRef) and head.text not in HELPERS:
        known = ", ".join(sorted(HELPERS))
        raise TemplateError(f"unknown or unsupported helper '{head.text}' (stackrig supports: {known})")
    for item in items:
        if isinstance(item, Expr):
            _check_expr(item, top=True)


@functools.lru_cache(maxsize=1024)
def compile_template(source: str) -> Template:
    """Parse ``source`` once; the result renders it against a context such as ``{"request": ...}``."""
    nodes = parse(source)
    _check_helpers(nodes)
    if len(nodes) == 1 and isinstance(nodes[0], str) or not nodes:
        text = nodes[0] if nodes else ""
        return lambda ctx: text

    def render(ctx: dict[str, Any]) -> str:
        out: list[str] = []
        render_nodes(nodes, Scope(ctx, ctx, {}, None), out)
        return "".join(out)

    return render
