"""What a load run measured: latency distributions (HDR histograms) per request, and their aggregates.

The generator records each request's latency, in whole microseconds, into an HDR histogram
(1 µs to 1 h, 3 significant digits: exact below 2.048 ms, above in buckets at most 1/1024 of the
value wide, whose middle stands for them: within 0.05 %, 16 µs at 50 ms) per
``(name, method, status, failed)``, with the exact count, sum, min and max beside it. Here they are
merged for a row of the table or a threshold's sub-metric.

Percentiles follow k6's ``TrendSink.P``: the rank ``p/100 * (n - 1)`` in the sorted latencies,
interpolated linearly between its two neighbours. A neighbour's value is the middle of its
histogram bucket (exact below 2.048 ms), clamped to the exact min and max, so ``p(0)`` is the
min and ``p(100)`` the max.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._thresholds import Threshold, compare

__all__ = ["HDR_LOWEST_US", "HDR_HIGHEST_US", "HDR_DIGITS", "new_histogram", "decode_histogram", "Entry",
           "Distribution", "Measures"]

HDR_LOWEST_US = 1
HDR_HIGHEST_US = 3_600_000_000  # one hour
HDR_DIGITS = 3


def new_histogram() -> Any:
    from hdrh.histogram import HdrHistogram  # type: ignore[import-untyped]

    return HdrHistogram(HDR_LOWEST_US, HDR_HIGHEST_US, HDR_DIGITS)


def decode_histogram(encoded: str) -> Any:
    from hdrh.histogram import HdrHistogram

    return HdrHistogram.decode(encoded.encode("ascii"))


@dataclass
class Entry:
    """The requests of one (name, method, status, failed) in a run."""

    name: str
    method: str
    status: str
    failed: bool
    count: int
    sum_ms: float
    min_ms: float
    max_ms: float
    histogram: Any  # hdrh.histogram.HdrHistogram, in µs

    def tag(self, key: str) -> str:
        if key == "expected_response":
            return "false" if self.failed else "true"
        return str(getattr(self, key))

    def matches(self, tags: Iterable[tuple[str, str]]) -> bool:
        return all(self.tag(key) == value for key, value in tags)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Entry:
        return cls(name=str(data["name"]), method=str(data["method"]), status=str(data["status"]),
                   failed=bool(data["failed"]), count=int(data["count"]), sum_ms=float(data["sum_ms"]),
                   min_ms=float(data["min_ms"]), max_ms=float(data["max_ms"]),
                   histogram=decode_histogram(data["hdr"]))


@dataclass
class Distribution:
    """Latencies of a set of requests, in ms."""

    count: int = 0
    sum_ms: float = 0.0
    min_ms: float = math.inf
    max_ms: float = -math.inf
    histogram: Any = None
    _values: list[float] = field(default_factory=list)
    _ranks: list[int] = field(default_factory=list)  # cumulative counts: _ranks[i] samples are <= _values[i]

    @classmethod
    def of(cls, entries: Iterable[Entry]) -> Distribution:
        dist = cls()
        for entry in entries:
            if not entry.count:
                continue
            dist.count += entry.count
            dist.sum_ms += entry.sum_ms
            dist.min_ms = min(dist.min_ms, entry.min_ms)
            dist.max_ms = max(dist.max_ms, entry.max_ms)
            if dist.histogram is None:
                dist.histogram = new_histogram()
            dist.histogram.add(entry.histogram)
        dist._index()
        return dist

    def _index(self) -> None:
        hist = self.histogram
        if hist is None:
            return
        total = 0
        for index, count in enumerate(hist.counts):
            if not count:
                continue
            value = hist.get_value_from_index(index)
            low = hist.get_lowest_equivalent_value(value)
            high = hist.get_highest_equivalent_value(value)
            middle = (low + high) / 2 / 1000.0
            total += int(count)
            self._values.append(min(max(middle, self.min_ms), self.max_ms))
            self._ranks.append(total)

    def buckets(self) -> list[tuple[float, int]]:
        """(value ms, how many) for each non-empty histogram bucket, ascending."""
        out: list[tuple[float, int]] = []
        before = 0
        for value, rank in zip(self._values, self._ranks, strict=True):
            out.append((value, rank - before))
            before = rank
        return out

    def _at_rank(self, rank: int) -> float:
        if rank <= 0:
            return self.min_ms
        if rank >= self.count - 1:
            return self.max_ms
        return self._values[bisect.bisect_right(self._ranks, rank)]

    def percentile(self, pct: float) -> float:
        """k6's percentile (0 for no samples)."""
        if self.count == 0:
            return 0.0
        if self.count == 1:
            return self.min_ms
        i = pct / 100.0 * (self.count - 1)
        low, high = self._at_rank(math.floor(i)), self._at_rank(math.ceil(i))
        return low + (high - low) * (i - math.floor(i))

    @property
    def avg(self) -> float:
        return self.sum_ms / self.count if self.count else 0.0

    @property
    def min(self) -> float:
        return self.min_ms if self.count else 0.0

    @property
    def max(self) -> float:
        return self.max_ms if self.count else 0.0

    def aggregate(self, method: str, percentile: float | None) -> float:
        if method == "p":
            return self.percentile(percentile or 0.0)
        if method == "med":
            return self.percentile(50.0)
        return {"avg": self.avg, "min": self.min, "max": self.max}[method]


def ms(value: float) -> float:
    """A latency as reported: ms to the microsecond (the recording's unit)."""
    return round(value, 3)


class Measures:
    """Every entry of a run and its length: what thresholds and the table are computed from."""

    def __init__(self, entries: Sequence[Entry], elapsed_s: float) -> None:
        self.entries = list(entries)
        self.elapsed_s = elapsed_s
        self._cache: dict[tuple[tuple[str, str], ...], Distribution] = {}

    def select(self, tags: tuple[tuple[str, str], ...]) -> list[Entry]:
        return [e for e in self.entries if e.matches(tags)]

    def distribution(self, tags: tuple[tuple[str, str], ...] = ()) -> Distribution:
        key = tuple(sorted(tags))
        if key not in self._cache:
            self._cache[key] = Distribution.of(self.select(key))
        return self._cache[key]

    def names(self) -> list[str]:
        """Request names in the order first seen."""
        return list(dict.fromkeys(e.name for e in self.entries))

    def value(self, threshold: Threshold) -> float | None:
        """The measured value a threshold compares, or None when k6 would have none (an empty rate)."""
        cond = threshold.condition
        entries = self.select(threshold.tags)
        count = sum(e.count for e in entries)
        if threshold.metric == "http_req_duration":
            return ms(self.distribution(threshold.tags).aggregate(cond.method, cond.percentile))
        if threshold.metric == "http_req_failed":
            if count == 0:
                return None
            return round(sum(e.count for e in entries if e.failed) / count, 6)
        if threshold.metric == "http_reqs":
            if cond.method == "count":
                return float(count)
            return round(count / self.elapsed_s, 3) if self.elapsed_s > 0 else None
        raise ValueError(f"unknown metric {threshold.metric!r}")

    def evaluate(self, threshold: Threshold) -> tuple[float | None, bool]:
        """(value, holds): k6's semantics — no value means the threshold is not breached."""
        value = self.value(threshold)
        if value is None:
            return None, True
        return value, compare(value, threshold.condition.operator, threshold.condition.value)

