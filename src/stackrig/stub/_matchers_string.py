"""The plain string matchers: ``equalTo``, ``binaryEqualTo``, ``contains``, ``doesNotContain``,
``matches``, ``doesNotMatch`` and ``absent``.

Each compares the raw text of one value (a header, a query parameter, a body ...) with what the
mapping expects; nothing here parses JSON or XML.
"""

from __future__ import annotations

import base64
import re

from ._matchers_base import ValuePattern, similarity_distance

__all__ = ["Absent", "BinaryEqualTo", "Contains", "DoesNotContain", "DoesNotMatch", "EqualTo", "Matches"]


class EqualTo(ValuePattern):
    op = "equalTo"
    is_equality = True

    def __init__(self, expected: str, case_insensitive: bool = False) -> None:
        super().__init__(expected)
        self.case_insensitive = case_insensitive
        self._folded = expected.casefold()

    def matches(self, value: str | None) -> bool:
        if value is None:
            return False
        if self.case_insensitive:
            return value.casefold() == self._folded
        return value == str(self.expected)

    def distance(self, value: str | None) -> float:
        if self.matches(value):
            return 0.0
        return max(0.01, similarity_distance(self.expected, value))


class BinaryEqualTo(ValuePattern):
    op = "binaryEqualTo"
    is_equality = True

    def __init__(self, expected: str) -> None:
        super().__init__(expected)
        self._bytes = base64.b64decode(expected)

    def matches(self, value: str | None) -> bool:
        return value is not None and value.encode("utf-8", "surrogateescape") == self._bytes

    @property
    def raw(self) -> bytes:
        """The expected bytes."""
        return self._bytes


class Contains(ValuePattern):
    op = "contains"

    def matches(self, value: str | None) -> bool:
        return value is not None and self.expected in value


class DoesNotContain(ValuePattern):
    op = "doesNotContain"

    def matches(self, value: str | None) -> bool:
        return value is None or self.expected not in value


class Matches(ValuePattern):
    op = "matches"

    def __init__(self, expected: str, regex: re.Pattern[str]) -> None:
        super().__init__(expected)
        self.regex = regex

    def matches(self, value: str | None) -> bool:
        return value is not None and self.regex.fullmatch(value) is not None


class DoesNotMatch(Matches):
    op = "doesNotMatch"

    def matches(self, value: str | None) -> bool:
        return value is None or self.regex.fullmatch(value) is None


class Absent(ValuePattern):
    op = "absent"

    def matches(self, value: str | None) -> bool:
        return value is None

    def describe(self) -> str:
        return "absent"

    def is_absent(self) -> bool:
        return True

    def expected_text(self) -> str:
        return "(absent)"
