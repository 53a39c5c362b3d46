"""The logical matchers ``and``, ``or`` and ``not``: combinations of other matchers."""

from __future__ import annotations

from typing import Any

from ._matchers_base import ValuePattern

__all__ = ["And", "Not", "Or"]


class And(ValuePattern):
    op = "and"

    def __init__(self, expected: Any, parts: list[ValuePattern]) -> None:
        super().__init__(expected)
        self.parts = parts

    def matches(self, value: str | None) -> bool:
        return all(p.matches(value) for p in self.parts)

    def distance(self, value: str | None) -> float:
        return sum(p.distance(value) for p in self.parts) / max(1, len(self.parts))

    def describe(self) -> str:
        return "(" + " and ".join(p.describe() for p in self.parts) + ")"

    def expected_text(self) -> str:
        word = f" {self.op.upper()} "
        return word.join(f"{p.name} {p.expected_text()}" for p in self.parts)

    def value_text(self) -> str:
        return self.parts[0].expected_text()  # WireMock keeps the first operand's as its value


class Or(And):
    op = "or"

    def matches(self, value: str | None) -> bool:
        return any(p.matches(value) for p in self.parts)

    def distance(self, value: str | None) -> float:
        return min((p.distance(value) for p in self.parts), default=1.0)

    def describe(self) -> str:
        return "(" + " or ".join(p.describe() for p in self.parts) + ")"


class Not(ValuePattern):
    op = "not"

    def __init__(self, expected: Any, inner: ValuePattern) -> None:
        super().__init__(expected)
        self.inner = inner

    def matches(self, value: str | None) -> bool:
        return not self.inner.matches(value)

    def describe(self) -> str:
        return f"not {self.inner.describe()}"

    def expected_text(self) -> str:
        return self.inner.expected_text()

    def value_text(self) -> str:
        return self.inner.expected_text()
