"""Evaluate a parsed template against a context: resolve paths through scopes (``this``, ``..``,
``@index``), call helpers, and render ``if`` / ``unless`` / ``each`` / ``with`` and helper blocks.
"""

from __future__ import annotations

from typing import Any

from ._template_helpers import HELPERS
from ._template_parse import Block, Expr, Lit, PathRef, TemplateError
from ._template_values import render_value, step, truthy

__all__ = ["Scope", "render_nodes"]


class Scope:
    """One level of the context: ``this``, the root, ``@index``-style data and the enclosing scope."""

    def __init__(self, this: Any, root: dict[str, Any], data: dict[str, Any], parent: Scope | None) -> None:
        self.this = this
        self.root = root
        self.data = data
        self.parent = parent


def _resolve(path: PathRef, scope: Scope) -> Any:
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
        value = step(scope.this, first)
        if value is None and isinstance(scope.root, dict):
            value = scope.root.get(first)
        rest = segs[1:]
    for seg in rest:
        value = step(value, seg)
    return value


def _eval(item: Any, scope: Scope) -> Any:
    if isinstance(item, Lit):
        return item.value
    if isinstance(item, PathRef):
        return _resolve(item, scope)
    if isinstance(item, Expr):
        return _call(item, scope)
    return item


def _call(expr: Expr, scope: Scope) -> Any:
    head = expr.parts[0]
    if isinstance(head, PathRef) and head.text in HELPERS:
        args = [_eval(a, scope) for a in expr.parts[1:]]
        kwargs = {k: _eval(v, scope) for k, v in expr.hashes.items()}
        return HELPERS[head.text](*args, **kwargs)
    if len(expr.parts) > 1:
        name = head.text if isinstance(head, PathRef) else "?"
        raise TemplateError(f"unknown helper '{name}'")
    return _eval(head, scope)


def render_nodes(nodes: list[Any], scope: Scope, out: list[str]) -> None:
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, Expr):
            out.append(render_value(_call(node, scope)))
        else:
            _render_block(node, scope, out)


def _render_block(block: Block, scope: Scope, out: list[str]) -> None:
    name = block.name
    if name in ("if", "unless", "each", "with"):
        value = _eval(block.expr.parts[0], scope) if block.expr.parts else None
    else:
        value = _call(Expr([PathRef(name), *block.expr.parts], block.expr.hashes), scope)
    if name == "each":
        items: list[tuple[Any, Any]]
        if isinstance(value, dict):
            items = list(value.items())
        elif isinstance(value, list):
            items = list(enumerate(value))
        else:
            items = []
        if not items:
            render_nodes(block.inverse, scope, out)
        for i, (key, item) in enumerate(items):
            data = {"index": i, "key": key, "first": i == 0, "last": i == len(items) - 1}
            render_nodes(block.body, Scope(item, scope.root, data, scope), out)
        return
    if name == "with":
        if truthy(value):
            render_nodes(block.body, Scope(value, scope.root, scope.data, scope), out)
        else:
            render_nodes(block.inverse, scope, out)
        return
    truth = truthy(value)
    if name == "unless":
        truth = not truth
    render_nodes(block.body if truth else block.inverse, scope, out)
