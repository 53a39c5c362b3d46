"""`LoadResult`: a load run's table (per request name and ``"all"``), its thresholds, charts, as text and JSON."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

from ..errors import StackrigError
from ._measures import Distribution, Measures, ms
from ._thresholds import Threshold

__all__ = ["ALL", "RequestStats", "ThresholdResult", "LoadResult", "ThresholdsFailed"]

ALL = "all"


@dataclass(frozen=True)
class RequestStats:
    """One row: the requests of one name (or all of them)."""

    name: str
    count: int
    rps: float
    failures: int
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    min_ms: float = 0.0
    avg_ms: float = 0.0

    @classmethod
    def of(cls, name: str, dist: Distribution, failures: int, elapsed_s: float) -> RequestStats:
        return cls(name=name, count=dist.count, rps=round(dist.count / elapsed_s, 3) if elapsed_s > 0 else 0.0,
                   failures=failures, p50_ms=ms(dist.percentile(50)), p90_ms=ms(dist.percentile(90)),
                   p95_ms=ms(dist.percentile(95)), p99_ms=ms(dist.percentile(99)), max_ms=ms(dist.max),
                   min_ms=ms(dist.min), avg_ms=ms(dist.avg))

    def to_json(self) -> dict[str, Any]:
        return {"count": self.count, "rps": self.rps, "failures": self.failures, "p50_ms": self.p50_ms,
                "p90_ms": self.p90_ms, "p95_ms": self.p95_ms, "p99_ms": self.p99_ms, "max_ms": self.max_ms}


@dataclass(frozen=True)
class ThresholdResult:
    """A threshold and what the run measured for it."""

    threshold: Threshold
    value: float | None  # None: nothing to compare (an empty rate), which k6 counts as holding
    ok: bool

    @property
    def expr(self) -> str:
        return self.threshold.expr

    def to_json(self) -> dict[str, Any]:
        return {"expr": self.expr, "value": self.value, "ok": self.ok}


class ThresholdsFailed(StackrigError, AssertionError):
    """`LoadResult.assert_ok()`: at least one threshold did not hold."""

    def __init__(self, result: LoadResult) -> None:
        self.result = result
        failed = [t for t in result.thresholds if not t.ok]
        lines = "\n".join(f"  ✗ {t.expr}  (measured {_value(t)})" for t in failed)
        super().__init__(f"{len(failed)} of {len(result.thresholds)} thresholds failed:\n{lines}\n"
                         + result.render_table())


@dataclass
class LoadResult:
    """What `run_load` measured. It raises nothing for a failed threshold: ``result.ok`` says it."""

    requests: dict[str, RequestStats]
    thresholds: list[ThresholdResult]
    measures: Measures
    host: str = ""
    locustfile: str = ""
    users: int = 0
    elapsed_s: float = 0.0
    charts: list[str] = field(default_factory=list)
    out: str | None = None  # the folder of the charts and result.json, when one was written
    errors: list[dict[str, Any]] = field(default_factory=list)  # failed requests by message: name, method, error, count
    exceptions: list[dict[str, Any]] = field(default_factory=list)  # exceptions raised in tasks: msg, count, traceback
    warnings: list[str] = field(default_factory=list)
    series: list[list[float]] = field(default_factory=list)  # per interval: t, count, failures, p50, p95, p99, max
    log_path: str | None = None  # the generator's own output (Locust's log), when kept (with `out`)
    log_tail: str = ""  # its last lines

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.thresholds)

    @property
    def failed(self) -> list[ThresholdResult]:
        return [t for t in self.thresholds if not t.ok]

    def distribution(self, tags: dict[str, str] | None = None) -> Distribution:
        """The latencies of the requests with these tags (name, method, status, expected_response)."""
        return self.measures.distribution(tuple((tags or {}).items()))

    def to_json(self) -> dict[str, Any]:
        return {"requests": {name: row.to_json() for name, row in self.requests.items()},
                "thresholds": [t.to_json() for t in self.thresholds], "charts": list(self.charts)}

    def assert_ok(self) -> LoadResult:
        """Raise `ThresholdsFailed` (an AssertionError) when a threshold did not hold."""
        if not self.ok:
            raise ThresholdsFailed(self)
        return self

    # -- text ---------------------------------------------------------------------------------
    def render_table(self) -> str:
        header = ("name", "count", "req/s", "failures", "p50 ms", "p90 ms", "p95 ms", "p99 ms", "max ms")
        rows = [(r.name, str(r.count), f"{r.rps:.1f}", str(r.failures), f"{r.p50_ms:.3f}", f"{r.p90_ms:.3f}",
                 f"{r.p95_ms:.3f}", f"{r.p99_ms:.3f}", f"{r.max_ms:.3f}") for r in self.requests.values()]
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

        def line(cells: tuple[str, ...]) -> str:
            return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths,
                                                                                                 strict=True)))

        out = [line(header)]
        for i, row in enumerate(rows):
            if i == len(rows) - 1 and len(rows) > 1:
                out.append("  ".join("-" * w for w in widths))
            out.append(line(row))
        return "\n".join(out)

    def render(self, marks: tuple[str, str] | None = None) -> str:
        """The table, the failures, and each threshold with its value and ✓/✗."""
        good, bad = marks or _marks()
        parts = [f"{self.locustfile} against {self.host}: {self.users} users, {self.elapsed_s:.1f} s", "",
                 self.render_table()]
        if self.errors:
            parts += ["", "failures:"]
            parts += [f"  {e['count']:>6} × {e['method']} {e['name']}: {e['error']}" for e in self.errors[:10]]
            if len(self.errors) > 10:
                parts.append(f"  ... and {len(self.errors) - 10} more kinds")
        if self.exceptions:
            parts += ["", "exceptions in tasks (not requests; see the log):"]
            parts += [f"  {e['count']:>6} × {e['msg']}" for e in self.exceptions[:5]]
        if self.thresholds:
            width = max(len(t.expr) for t in self.thresholds)
            parts += ["", "thresholds:"]
            parts += [f"  {good if t.ok else bad} {t.expr.ljust(width)}  {_value(t)}" for t in self.thresholds]
        for warning in self.warnings:
            parts += [f"warning: {warning}"]
        if self.charts:
            parts += ["", "charts: " + ", ".join(self.charts)]
        return "\n".join(parts)


def _value(t: ThresholdResult) -> str:
    if t.value is None:
        return "no samples"
    if t.threshold.metric == "http_req_duration":
        return f"{t.value:.3f} ms"
    if t.threshold.metric == "http_reqs" and t.threshold.condition.method == "rate":
        return f"{t.value:g}/s"
    return f"{t.value:g}"


def _marks() -> tuple[str, str]:
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        "✓✗".encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return "ok", "FAIL"
    return "✓", "✗"


def build(measures: Measures, thresholds: list[Threshold], **fields: Any) -> LoadResult:
    """The table and the thresholds' results from what was measured."""
    rows: dict[str, RequestStats] = {}
    for name in measures.names():
        entries = [e for e in measures.entries if e.name == name]
        rows[name] = RequestStats.of(name, Distribution.of(entries), sum(e.count for e in entries if e.failed),
                                     measures.elapsed_s)
    everything = measures.distribution(())
    rows[ALL] = RequestStats.of(ALL, everything, sum(e.count for e in measures.entries if e.failed),
                                measures.elapsed_s)
    results = []
    for threshold in thresholds:
        value, ok = measures.evaluate(threshold)
        results.append(ThresholdResult(threshold, value, ok))
    return LoadResult(requests=rows, thresholds=results, measures=measures, **fields)
