"""Errors of the load engine.

::

    StackrigError
    └── LoadError                    the load run could not be made (the generator failed)
        └── LoadArgumentError        a bad argument: nothing was run          (also ValueError; the CLI exits 2)
            ├── LocustfileError      the Locust file is missing, does not import, or has no User class
            └── ThresholdSyntaxError a threshold expression does not parse (points at the column)

A threshold that *fails* is not an error: :class:`~stackrig.load.LoadResult` says so
(``result.ok``) and the caller decides.
"""

from __future__ import annotations

from ..errors import StackrigError

__all__ = ["LoadError", "LoadArgumentError", "LocustfileError", "ThresholdSyntaxError", "GRAMMAR"]

GRAMMAR = """\
  grammar (k6's):  METRIC[{TAG:VALUE[,TAG:VALUE...]}]: CONDITION[, CONDITION...]
    METRIC       http_req_duration (a trend, ms) | http_req_failed (a rate) | http_reqs (a counter)
    TAG          name | method | status | expected_response
    CONDITION    AGGREGATION OPERATOR NUMBER        e.g. p(95)<200   (spaces allowed around OPERATOR)
    AGGREGATION  trend: avg | min | max | med | p(N), 0 <= N <= 100;  rate: rate;  counter: count | rate
    OPERATOR     < | <= | > | >= | == | === | !=
    NUMBER       digits, optionally .digits (and an exponent)
  a list is also accepted:  http_req_duration: ["p(95)<200", "p(99)<500"]"""


class LoadError(StackrigError):
    """The load run could not be made."""


class LoadArgumentError(LoadError, ValueError):
    """An argument that cannot be used (a duration, a URL, a count): nothing was run."""


class LocustfileError(LoadArgumentError):
    """The Locust file cannot be used; the message names the file."""

    def __init__(self, message: str, *, file: str, hint: str | None = None) -> None:
        self.file = file
        super().__init__(message, hint=hint)


class ThresholdSyntaxError(LoadArgumentError):
    """A threshold expression that does not parse (or names what there is not); points at the column."""

    def __init__(self, reason: str, *, expr: str, position: int) -> None:
        self.reason = reason
        self.expr = expr
        self.position = position  # 0-based offset into `expr`
        super().__init__(f"threshold {expr!r} does not parse at column {position + 1}: {reason}")

    def __str__(self) -> str:
        caret = " " * (4 + self.position) + "^"
        shown = "".join(" " if c.isspace() else c for c in self.expr)
        return f"{self.message}\n    {shown}\n{caret}\n{GRAMMAR}"
