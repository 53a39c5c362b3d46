"""Structural checks of a compose file's mappings: unknown keys (with a suggestion) and types.

Each level's keys and types come from :mod:`._keys` (the Compose specification's); a mistake is a
located :class:`~stackrig.errors.ConfigError` with the fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..config._errors import did_you_mean  # the stack file's own wording, for compose files too
from ._hook import Key
from ._keys import TYPE_WORDS
from ._model import Located

__all__ = ["Checker", "describe", "did_you_mean", "type_of"]


def type_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, Mapping) else type(value).__name__


def describe(value: Any) -> str:
    t = type_of(value)
    if t == "string":
        return f"the string {value!r}"
    if t in ("integer", "number", "boolean"):
        return f"{t} {value!r}"
    return {"array": "a list", "object": "a mapping", "null": "nothing"}.get(t, t)


class Checker:
    """Checks one file's mappings, raising located errors."""

    def __init__(self, ld: Located) -> None:
        self.ld = ld

    def keys(self, where: Key, body: Mapping[str, Any], table: Mapping[str, tuple[Any, ...]], what: str) -> None:
        """Unknown keys (with a suggestion) and types, at `where`; `x-*` extensions are allowed."""
        for key, value in body.items():
            key = str(key)
            if key.startswith("x-"):
                continue
            if key not in table:
                raise self.ld.error((*where, key), f"unknown {what} key '{key}'{did_you_mean(key, table)}",
                                    hint=f"remove it, or use one of: {', '.join(sorted(table))} (or an x-* extension)")
            self.type((*where, key), value, table[key][0])

    def type(self, where: Key, value: Any, types: tuple[str, ...]) -> None:
        t = type_of(value)
        ok = t in types or (t == "integer" and "number" in types)
        if not ok:
            want = " or ".join(TYPE_WORDS[x] for x in types)
            raise self.ld.error(where, f"expected {want}, found {describe(value)}",
                                hint=f"write `{where[-1]}` as {TYPE_WORDS[types[0]]}")
