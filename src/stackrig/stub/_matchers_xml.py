"""The XML matchers: ``equalToXml`` (semantic comparison) and ``matchesXPath`` (alone, or with a
nested matcher on the selected values); the XML work itself is in ``_xml``.
"""

from __future__ import annotations

from typing import Any

from ._matchers_base import ValuePattern
from ._xml import compile_xpath, pretty_xml, xml_equal

__all__ = ["EqualToXml", "MatchesXPath"]


class EqualToXml(ValuePattern):
    op = "equalToXml"
    is_equality = True

    def matches(self, value: str | None) -> bool:
        return value is not None and xml_equal(self.expected, value)

    def expected_text(self) -> str:
        return pretty_xml(self.expected)


class MatchesXPath(ValuePattern):
    op = "matchesXPath"

    def __init__(self, expected: Any, expression: str, namespaces: dict[str, str], nested: ValuePattern | None):
        super().__init__(expected)
        self.expression = expression
        self.nested = nested
        self._select = compile_xpath(expression, namespaces)

    def matches(self, value: str | None) -> bool:
        if value is None:
            return False
        found = self._select(value)
        if found is None:
            return False
        if self.nested is None:
            return bool(found)
        if not found:
            return self.nested.matches(None)
        return any(self.nested.matches(v) for v in found)

    def describe(self) -> str:
        if self.nested is None:
            return f"matchesXPath {self.expression!r}"
        return f"matchesXPath {self.expression!r} {self.nested.describe()}"

    def expected_text(self) -> str:
        return self.expression

    def expression_result(self, value: str | None) -> str | None:
        """The first value the expression selects in ``value`` (None when nothing or not XML)."""
        if not value:
            return None
        found = self._select(value)
        return found[0] if found else None
