"""Thresholds in k6's syntax: parse ``METRIC{TAGS}: CONDITION`` and evaluate it on a run's measures.

The grammar and the semantics are k6's (``metrics/thresholds_parser.go``, ``thresholds.go``,
``metric_type.go``, ``metric.go``):

* a condition is ``aggregation operator number``; the operator is found the way k6 scans for it
  (``<=`` before ``<``, ``>=`` before ``>``, ``===`` before ``==``, then ``!=``), whitespace around
  both sides is trimmed, and ``p(N)`` takes a number from 0 to 100 with no spaces inside;
* ``http_req_duration`` is a trend (``avg``, ``min``, ``max``, ``med``, ``p(N)``; milliseconds),
  ``http_req_failed`` a rate (``rate``: the fraction failed), ``http_reqs`` a counter (``count``,
  ``rate``: per second of the run); an aggregation the metric's type has not is refused;
* ``METRIC{key:value,...}`` is a sub-metric: the requests whose tags all match (quotes around keys
  and values are trimmed, as k6 does); the tag part runs to the *last* ``}``, so values may hold
  braces;
* at the end of a run, an empty trend reads 0 for every aggregation and an empty counter reads
  count 0, rate 0 (k6 evaluates empty sinks at the end); an empty rate has no value, and its
  threshold holds (k6 skips a missing sink).

Differences, all stricter: a tag that stackrig does not record (k6 tags we cannot know from a
Locust request) is refused instead of silently matching nothing; numbers are decimal (k6's Go
``ParseFloat`` also reads ``Inf``, ``NaN`` and hex floats).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ._errors import ThresholdSyntaxError

__all__ = ["METRICS", "TAGS", "Condition", "Threshold", "parse_threshold", "parse_thresholds", "compare"]

METRICS = {"http_req_duration": "trend", "http_req_failed": "rate", "http_reqs": "counter"}
TAGS = ("name", "method", "status", "expected_response")
AGGREGATIONS = {"counter": ("count", "rate"), "gauge": ("value",), "rate": ("rate",),
                "trend": ("avg", "min", "max", "med", "p")}
_METHOD_TOKENS = ("value", "count", "rate", "avg", "min", "med", "max")
OPERATORS = ("<=", "<", ">=", ">", "===", "==", "!=")  # k6's scan order
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\Z")


@dataclass(frozen=True)
class Condition:
    """One ``aggregation operator value`` of a threshold."""

    source: str  # as written, trimmed: "p(95)<200"
    method: str  # avg | min | max | med | p | count | rate | value
    percentile: float | None
    operator: str
    value: float

    @property
    def key(self) -> str:
        """The aggregation as k6 keys it: ``p(95)``, ``avg``, ..."""
        return f"p({self.percentile:g})" if self.method == "p" else self.method


@dataclass(frozen=True)
class Threshold:
    """A metric (maybe a sub-metric) and one condition on it."""

    metric: str
    tags: tuple[tuple[str, str], ...]
    condition: Condition
    metric_source: str  # as written, trimmed: "http_req_duration{name:checkout}"

    @property
    def expr(self) -> str:
        return f"{self.metric_source}: {self.condition.source}"

    @property
    def kind(self) -> str:
        return METRICS[self.metric]

    def __str__(self) -> str:
        return self.expr


def compare(lhs: float, operator: str, rhs: float) -> bool:
    """k6's ``runNoTaint``: ``==`` and ``===`` are the same on numbers."""
    if operator == "<":
        return lhs < rhs
    if operator == "<=":
        return lhs <= rhs
    if operator == ">":
        return lhs > rhs
    if operator == ">=":
        return lhs >= rhs
    if operator in ("==", "==="):
        return lhs == rhs
    if operator == "!=":
        return lhs != rhs
    raise ValueError(f"unknown operator {operator!r}")


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def _trimmed(text: str, start: int, end: int) -> tuple[str, int]:
    """text[start:end] without surrounding whitespace, and where it starts."""
    part = text[start:end]
    lead = len(part) - len(part.lstrip())
    return part.strip(), start + lead


def _metric(expr: str) -> tuple[str, tuple[tuple[str, str], ...], str, int]:
    """Parse ``METRIC{TAGS}`` at the start of `expr`: (metric, tags, source, offset after it)."""
    pos = _skip(expr, 0)
    found = _NAME.match(expr, pos)
    if found is None:
        raise ThresholdSyntaxError(f"expected a metric name ({', '.join(METRICS)})", expr=expr, position=pos)
    name = found.group()
    if name not in METRICS:
        close = difflib.get_close_matches(name, list(METRICS), n=1)
        maybe = f" (did you mean '{close[0]}'?)" if close else ""
        raise ThresholdSyntaxError(f"unknown metric '{name}'{maybe}; metrics: {', '.join(METRICS)}",
                                   expr=expr, position=pos)
    end = found.end()
    tags: list[tuple[str, str]] = []
    brace = _skip(expr, end)
    if brace < len(expr) and expr[brace] == "{":
        close_at = expr.rfind("}")
        if close_at < brace:
            raise ThresholdSyntaxError("unmatched '{': the tags end with '}'", expr=expr, position=brace)
        inner = expr[brace + 1:close_at]
        if not inner.strip():
            raise ThresholdSyntaxError(f"empty tags: expected {{TAG:VALUE}}, TAG one of {', '.join(TAGS)}",
                                       expr=expr, position=brace + 1)
        offset = brace + 1
        for part in inner.split(","):
            at = offset
            offset += len(part) + 1
            if not part.strip():
                continue  # k6 skips empty pairs ("{a:b,}")
            key, sep, value = part.partition(":")
            key_text, key_at = _trimmed(part, 0, len(key))
            key_text = key_text.strip("\"'")
            value_text = value.strip().strip("\"'")
            if not sep or not value.strip():
                raise ThresholdSyntaxError("malformed tag: expected TAG:VALUE", expr=expr,
                                           position=at + key_at + len(key.strip()))
            if key_text not in TAGS:
                close = difflib.get_close_matches(key_text, TAGS, n=1)
                maybe = f" (did you mean '{close[0]}'?)" if close else ""
                raise ThresholdSyntaxError(f"unknown tag '{key_text}'{maybe}; the tags of a request: "
                                           f"{', '.join(TAGS)}", expr=expr, position=at + key_at)
            tags.append((key_text, value_text))
        end = close_at + 1
    elif "}" in expr[end:]:
        raise ThresholdSyntaxError("unmatched '}'", expr=expr, position=expr.index("}", end))
    source = expr[pos:end].strip()
    return name, tuple(tags), source, end


def _items(expr: str, start: int) -> list[tuple[str, int]]:
    """The conditions after the colon: `a, b` or `["a", "b"]` (each with where it starts)."""
    pos = _skip(expr, start)
    if pos >= len(expr):
        raise ThresholdSyntaxError("expected a condition after ':', e.g. p(95)<200", expr=expr, position=pos)
    closing = len(expr.rstrip())
    listed = expr[pos] == "["
    if listed:
        if expr[closing - 1] != "]":
            raise ThresholdSyntaxError("unmatched '[': the list ends with ']'", expr=expr, position=pos)
        pos, closing = pos + 1, closing - 1
    items: list[tuple[str, int]] = []
    offset = pos
    for part in expr[pos:closing].split(","):
        text, at = _trimmed(expr, offset, offset + len(part))
        offset += len(part) + 1
        if listed and len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
            text, at = text[1:-1].strip(), at + 1 + (len(text[1:-1]) - len(text[1:-1].lstrip()))
        if not text:
            raise ThresholdSyntaxError("expected a condition, e.g. p(95)<200", expr=expr, position=at)
        items.append((text, at))
    return items


def _condition(expr: str, text: str, at: int, kind: str, metric: str) -> Condition:
    dangling = None
    for op in OPERATORS:
        left, sep, right = text.partition(op)
        if sep and right:
            break
        if sep and dangling is None:
            dangling = op
    else:
        reason = (f"expected a number after '{dangling}'" if dangling
                  else "expected an operator (<, <=, >, >=, ==, ===, !=) and a number")
        raise ThresholdSyntaxError(reason, expr=expr, position=at + len(text))
    op_at = at + len(left)
    method_text, method_at = _trimmed(text, 0, len(left))
    method_at += at
    percentile: float | None = None
    if not method_text:
        raise ThresholdSyntaxError(f"expected an aggregation before '{op}'", expr=expr, position=op_at)
    if method_text in _METHOD_TOKENS:
        method = method_text
    elif method_text.startswith("p(") and method_text.endswith(")"):
        inner = method_text[2:-1]
        if not _NUMBER.match(inner):
            raise ThresholdSyntaxError(f"malformed percentile {inner!r}: expected p(N), N a number",
                                       expr=expr, position=method_at + 2)
        percentile = float(inner)
        if not 0 <= percentile <= 100:
            raise ThresholdSyntaxError("malformed percentile value, provide a number between 0 and 100",
                                       expr=expr, position=method_at + 2)
        method = "p"
    else:
        raise ThresholdSyntaxError(f"unknown aggregation {method_text!r}", expr=expr, position=method_at)
    allowed = AGGREGATIONS[kind]
    if method not in allowed:
        names = ", ".join("p(N)" if m == "p" else m for m in allowed)
        raise ThresholdSyntaxError(f"{metric} is a {kind}: its aggregations are {names}, not '{method_text}'",
                                   expr=expr, position=method_at)
    value_text, value_at = _trimmed(text, len(left) + len(op), len(text))
    if not _NUMBER.match(value_text):
        raise ThresholdSyntaxError(f"expected a number after '{op}', found {value_text!r}", expr=expr,
                                   position=at + value_at)
    source = f"{method_text}{op}{value_text}"
    return Condition(source=source, method=method, percentile=percentile, operator=op, value=float(value_text))


def parse_threshold(expr: str) -> list[Threshold]:
    """``"http_req_duration{name:checkout}: p(95)<200, p(99)<500"`` -> one Threshold per condition."""
    metric, tags, source, end = _metric(expr)
    colon = _skip(expr, end)
    if colon >= len(expr) or expr[colon] != ":":
        what = repr(expr[colon]) if colon < len(expr) else "the end"
        raise ThresholdSyntaxError(f"expected ':' after the metric, found {what}", expr=expr, position=colon)
    kind = METRICS[metric]
    return [Threshold(metric, tags, _condition(expr, text, at, kind, metric), source)
            for text, at in _items(expr, colon + 1)]


def parse_thresholds(spec: Iterable[str] | Mapping[str, str | Sequence[str]]) -> list[Threshold]:
    """Thresholds from CLI-style strings, or from k6's ``options.thresholds`` shape
    (``{"http_req_duration": ["p(95)<200"]}``)."""
    if isinstance(spec, str):
        spec = [spec]
    out: list[Threshold] = []
    if isinstance(spec, Mapping):
        for metric, conditions in spec.items():
            listed = [conditions] if isinstance(conditions, str) else list(conditions)
            for condition in listed:
                out.extend(parse_threshold(f"{metric}: {condition}"))
        return out
    for expr in spec:
        out.extend(parse_threshold(expr))
    return out
