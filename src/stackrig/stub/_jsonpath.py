"""JSONPath for ``matchesJsonPath`` and the ``jsonPath`` template helper (on top of jsonpath-ng).

WireMock uses Jayway JsonPath; the one difference that matters in practice is a filter applied to
the root object (``$[?(@.k == 1)]`` on ``{"k": 1}``), which Jayway evaluates against the object
itself.  We do the same by retrying such expressions on ``[document]``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

__all__ = ["JsonPathError", "compile_json_path"]


class JsonPathError(ValueError):
    """A JSONPath expression that does not parse."""


@functools.lru_cache(maxsize=512)
def compile_json_path(expression: str) -> Callable[[Any], list[Any]]:
    """Return a function giving every value that ``expression`` selects in a parsed JSON document."""
    try:
        from jsonpath_ng.exceptions import (  # type: ignore[import-untyped,unused-ignore]
            JsonPathLexerError,
            JsonPathParserError,
        )
        from jsonpath_ng.ext import parse  # type: ignore[import-untyped,attr-defined,unused-ignore]
    except ImportError:
        raise JsonPathError("JSONPath needs the 'jsonpath-ng' package: pip install jsonpath-ng") from None

    text = expression.strip()
    if not text.startswith("$") and not text.startswith("@"):
        text = "$." + text
    try:
        compiled = parse(text)
    except (JsonPathLexerError, JsonPathParserError, Exception) as exc:  # noqa: BLE001 - jsonpath-ng raises bare Exception too
        raise JsonPathError(str(exc)) from None
    root_filter = text.startswith("$[?")

    def find(document: Any) -> list[Any]:
        try:
            found = [m.value for m in compiled.find(document)]
        except Exception:  # noqa: BLE001 - a filter comparing incompatible types, etc.: selects nothing
            return []
        if not found and root_filter and isinstance(document, dict):
            try:
                found = [m.value for m in compiled.find([document])]
            except Exception:  # noqa: BLE001 - as above
                return []
        return found

    return find
