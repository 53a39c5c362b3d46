"""The run's charts as SVG files: latency (and throughput) over time, and the latency histogram."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ._svg import COLORS, Plot, document

if TYPE_CHECKING:
    from ._result import LoadResult

__all__ = ["write_charts", "over_time", "histogram"]

WIDTH = 820


def over_time(result: LoadResult) -> str:
    """p50, p95, p99 and max per interval above; requests per second (failures in red) below."""
    series = result.series
    times = [float(p[0]) for p in series]
    starts = [0.0, *times[:-1]]
    ys = [float(v) for p in series for v in p[3:7]]
    top = Plot(70, 66, WIDTH - 100, 240, [0.0, *times], ys, "", "latency (ms)")
    top.axes()
    for index, key in ((5, "p99"), (4, "p95"), (3, "p50")):
        top.line([(float(p[0]), float(p[index])) for p in series if p[1]], COLORS[key])
    top.line([(float(p[0]), float(p[6])) for p in series if p[1]], COLORS["max"], 1.0, "2 3")
    top.legend([("p50", COLORS["p50"]), ("p95", COLORS["p95"]), ("p99", COLORS["p99"]), ("max", COLORS["max"])])
    rates = [float(p[1]) / max(float(p[0]) - s, 1e-9) for p, s in zip(series, starts, strict=True)]
    bottom = Plot(70, 352, WIDTH - 100, 100, [0.0, *times], rates, "seconds since the start", "req/s")
    bottom.axes()
    for p, start, rate in zip(series, starts, rates, strict=True):
        span = max(float(p[0]) - start, 1e-9)
        bottom.bar(start, float(p[0]), rate, COLORS["bars"], f"{start:.0f}-{p[0]:.0f} s: {rate:.1f} req/s")
        if p[2]:
            bottom.bar(start, float(p[0]), float(p[2]) / span, COLORS["fail"], f"{p[2]} failed")
    bottom.legend([("requests", COLORS["bars"]), ("failures", COLORS["fail"])])
    row = result.requests.get("all")
    subtitle = (f"{result.users} users, {result.elapsed_s:.1f} s, {row.count} requests, {row.failures} failed"
                if row else "")
    return document(WIDTH, 500, f"latency over time — {result.locustfile} against {result.host}",
                    [top, bottom], subtitle)


def histogram(result: LoadResult, bins: int = 50) -> str:
    """How many requests took how long (all requests), with p50, p95, p99 marked."""
    dist = result.distribution()
    buckets = dist.buckets()
    plots: list[Plot] = []
    subtitle = "no requests"
    if buckets:
        low, high = dist.min, dist.max
        tail = dist.percentile(99.9)
        clipped = high > 2 * tail and tail > low
        edge = tail if clipped else high
        width = (edge - low) / bins or 1.0
        counts = [0] * bins
        beyond = 0
        for value, count in buckets:
            if clipped and value > edge:
                beyond += count
                continue
            counts[min(int((value - low) / width), bins - 1)] += count
        xs = [low, low + width * (bins + (1 if beyond else 0))]
        plot = Plot(70, 66, WIDTH - 100, 280, xs, [*counts, beyond], "latency (ms)", "requests")
        plot.axes()
        for i, count in enumerate(counts):
            if count:
                start = low + i * width
                plot.bar(start, start + width, count, COLORS["bars"],
                         f"{start:.3f}-{start + width:.3f} ms: {count}")
        if beyond:
            plot.bar(low + bins * width, low + (bins + 1) * width, beyond, COLORS["fail"],
                     f"> {edge:.3f} ms (up to {high:.3f}): {beyond}")
        for row, (pct, key) in enumerate(((50, "p50"), (95, "p95"), (99, "p99"))):
            value = dist.percentile(pct)
            plot.vline(min(value, edge), COLORS[key], f"{key} {value:.2f} ms", row)
        plots.append(plot)
        subtitle = (f"{dist.count} requests, min {dist.min:.3f} ms, max {dist.max:.3f} ms"
                    + (f"; the last bar holds the {beyond} above p99.9" if beyond else ""))
    return document(WIDTH, 400, f"latency histogram — {result.locustfile}", plots, subtitle)


def write_charts(result: LoadResult, folder: Path) -> list[str]:
    """Write both charts into `folder`; their absolute paths."""
    paths = []
    for name, svg in (("latency-over-time.svg", over_time(result)), ("latency-histogram.svg", histogram(result))):
        path = folder / name
        path.write_text(svg, encoding="utf-8")
        paths.append(str(path.resolve()))
    return paths
