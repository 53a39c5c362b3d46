"""The matcher protocol: :class:`ValuePattern` (one string value) and :class:`MultiPattern` (a field
that can repeat, such as a query parameter or a header).

A matcher answers three questions: does a value match (``matches``, the hot path), how far is it
from matching (``distance`` in [0, 1], for near misses), and how WireMock names and prints it
(``name`` / ``expected_text``, for the near-miss table).  ``None`` means "absent".  The concrete
matchers live in ``_matchers_string``, ``_matchers_json``, ``_matchers_xml`` and ``_matchers_logic``.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from typing import Any

__all__ = ["MultiPattern", "ValuePattern", "similarity_distance"]

_SIMILARITY_CHARS = 2000  # difflib is quadratic: compare long values by their start only


def similarity_distance(expected: str, actual: str | None) -> float:
    """0.0 for equal strings, up to 1.0 for nothing in common (``None`` is 1.0)."""
    if actual is None:
        return 1.0
    if expected == actual:
        return 0.0
    a, b = expected[:_SIMILARITY_CHARS], actual[:_SIMILARITY_CHARS]
    return max(0.01, 1.0 - difflib.SequenceMatcher(None, a, b).ratio())


class ValuePattern:
    """One WireMock string-value pattern.  Subclasses set ``op`` and implement ``matches``."""

    op = ""
    # WireMock prints "Header: value" rather than "Header [op] : value" for the equalTo family.
    is_equality = False

    def __init__(self, expected: Any) -> None:
        self.expected = expected

    def matches(self, value: str | None) -> bool:
        raise NotImplementedError

    def distance(self, value: str | None) -> float:
        return 0.0 if self.matches(value) else 1.0

    def describe(self) -> str:
        if isinstance(self.expected, str):
            return f"{self.op} {self.expected!r}"
        return f"{self.op} {json.dumps(self.expected)}"

    def is_absent(self) -> bool:
        return False

    @property
    def name(self) -> str:
        """WireMock's ``getName()``: the operator as written in JSON."""
        return self.op

    def expected_text(self) -> str:
        """WireMock's ``getExpected()``: the expected value as the near-miss table prints it."""
        return self.expected if isinstance(self.expected, str) else json.dumps(self.expected)

    def value_text(self) -> str:
        """WireMock's ``getValue()``, which the table prints for cookies and path parameters."""
        return self.expected_text()


class MultiPattern:
    """Matches the list of values of a repeatable field (``None`` when the field is absent)."""

    def __init__(self, single: ValuePattern | None, op: str = "", parts: Sequence[ValuePattern] = ()) -> None:
        self.single = single
        self.op = op
        self.parts = list(parts)

    def matches(self, values: list[str] | None) -> bool:
        single = self.single
        if single is not None:
            if not values:
                return single.matches(None)
            if len(values) == 1:
                return single.matches(values[0])
            return any(single.matches(v) for v in values)
        if not values:
            return False
        if self.op == "hasExactly" and len(values) != len(self.parts):
            return False
        return all(any(p.matches(v) for v in values) for p in self.parts)

    def distance(self, values: list[str] | None) -> float:
        if self.matches(values):
            return 0.0
        if self.single is not None:
            if not values:
                return self.single.distance(None)
            return min(self.single.distance(v) for v in values)
        return 1.0

    def describe(self) -> str:
        if self.single is not None:
            return self.single.describe()
        return f"{self.op} [" + ", ".join(p.describe() for p in self.parts) + "]"

    def operator_text(self, default: str) -> str:
        """How WireMock's diff joins the field name and the expectation (``" [contains] "`` ...)."""
        if self.single is None:
            word = " exactly " if self.op == "hasExactly" else " including "
            return f"{word}[{' AND '.join(f'{p.name} {p.expected_text()}' for p in self.parts)}]"
        return default if self.single.is_equality else f" [{self.single.name}] "

    def expected_text(self) -> str:
        return self.single.expected_text() if self.single is not None else ""

    def value_text(self) -> str:
        return self.single.value_text() if self.single is not None else ""
