"""The histograms: percentiles as k6 computes them on the raw samples, within HDR's precision; the
result's table, JSON and charts."""

from __future__ import annotations

import math
import random
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from stackrig.load import parse_thresholds
from stackrig.load._charts import write_charts
from stackrig.load._measures import Distribution, Entry, Measures, new_histogram
from stackrig.load._result import build

REQUEST_KEYS = {"count", "rps", "failures", "p50_ms", "p90_ms", "p95_ms", "p99_ms", "max_ms"}


def k6_percentile(values: list[float], pct: float) -> float:
    """k6's TrendSink.P on the raw samples (metrics/sink.go)."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    i = pct / 100 * (len(ordered) - 1)
    low, high = ordered[math.floor(i)], ordered[math.ceil(i)]
    return low + (high - low) * (i - math.floor(i))


def entry_of(name: str, values: list[float], **tags: object) -> Entry:
    hist = new_histogram()
    for v in values:
        hist.record_value(max(1, round(v * 1000)))
    fields = {"method": "GET", "status": "200", "failed": False, **tags}
    entry = Entry(name=name, count=len(values), sum_ms=sum(values), min_ms=min(values), max_ms=max(values),
                  histogram=hist, **fields)  # type: ignore[arg-type]
    # through the encoding the generator sends, as the parent reads it
    return Entry.from_json({**fields, "name": name, "count": entry.count, "sum_ms": entry.sum_ms,
                            "min_ms": entry.min_ms, "max_ms": entry.max_ms,
                            "hdr": hist.encode().decode("ascii")})


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_percentiles_match_k6_on_the_raw_samples_within_the_histograms_precision(seed: int) -> None:
    """Latencies in whole µs (as the generator records them), spread over 0.1 ms to 10 s. With 3
    significant digits a bucket is at most value/1024 wide and its middle stands for it, so the
    error is at most value/2048 (0.05 %) plus the µs rounding."""
    rng = random.Random(seed)
    values = [round(rng.lognormvariate(math.log(50), 1.2), 3) for _ in range(5000)]
    values += [0.1, 9999.0]
    half = len(values) // 2
    dist = Distribution.of([entry_of("a", values[:half]), entry_of("b", values[half:], status="500")])
    assert dist.count == len(values)
    assert dist.min == min(values) and dist.max == max(values)  # exact, not the histogram's
    assert dist.avg == pytest.approx(sum(values) / len(values))
    for pct in (0, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 100):
        exact = k6_percentile(values, pct)
        assert abs(dist.percentile(pct) - exact) <= exact / 2048 + 0.001, pct


def test_small_latencies_are_exact() -> None:
    values = [0.5, 0.7, 1.25, 1.9, 2.0]
    dist = Distribution.of([entry_of("a", values)])
    for pct in (0, 33, 50, 90, 100):
        assert dist.percentile(pct) == pytest.approx(k6_percentile(values, pct), abs=1e-9)


def result_of(tmp_path: Path | None = None):  # noqa: ANN201 - a LoadResult
    entries = [entry_of("/checkout", [40.0, 50.0, 60.0]), entry_of("/home", [1.0, 2.0]),
               entry_of("/home", [5.0], failed=True, status="0")]
    measures = Measures(entries, elapsed_s=2.0)
    thresholds = parse_thresholds(["http_req_duration{name:/checkout}: p(95)<100", "http_req_failed: rate<0.1",
                                   "http_reqs: rate>1"])
    series = [[1.0, 3, 0, 40.0, 50.0, 60.0, 60.0], [2.0, 3, 1, 2.0, 5.0, 5.0, 5.0]]
    return build(measures, thresholds, host="http://127.0.0.1:1", locustfile="locustfile.py", users=2,
                 elapsed_s=2.0, series=series)


def test_the_table_and_the_json_have_every_name_and_all() -> None:
    result = result_of()
    data = result.to_json()
    assert set(data) == {"requests", "thresholds", "charts"}
    assert list(data["requests"]) == ["/checkout", "/home", "all"]
    assert all(set(row) == REQUEST_KEYS for row in data["requests"].values())
    assert data["requests"]["all"]["count"] == 6 and data["requests"]["all"]["failures"] == 1
    assert data["requests"]["/home"] == {"count": 3, "rps": 1.5, "failures": 1, "p50_ms": 2.0, "p90_ms": 4.4,
                                         "p95_ms": 4.7, "p99_ms": 4.94, "max_ms": 5.0}
    assert [t["ok"] for t in data["thresholds"]] == [True, False, True]
    assert data["thresholds"][1] == {"expr": "http_req_failed: rate<0.1", "value": 0.166667, "ok": False}
    assert not result.ok and [t.expr for t in result.failed] == ["http_req_failed: rate<0.1"]
    text = result.render(marks=("✓", "✗"))
    assert "✓ http_req_duration{name:/checkout}: p(95)<100" in text and "✗ http_req_failed: rate<0.1" in text
    assert "0.166667" in text
    assert [line.split()[0] for line in result.render_table().splitlines()] == [
        "name", "/checkout", "/home", "---------", "all"]


def test_charts_are_svg_files(tmp_path: Path) -> None:
    result = result_of()
    paths = write_charts(result, tmp_path)
    assert [Path(p).name for p in paths] == ["latency-over-time.svg", "latency-histogram.svg"]
    for path in paths:
        root = ET.parse(path).getroot()  # well-formed XML
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert root.find("{http://www.w3.org/2000/svg}title") is not None
    over_time = Path(paths[0]).read_text()
    assert over_time.count("<polyline") == 4  # p50, p95, p99, max
    assert "req/s" in over_time
    histogram = Path(paths[1]).read_text()
    assert "p50" in histogram and "p99" in histogram and histogram.count("<rect") > 3
