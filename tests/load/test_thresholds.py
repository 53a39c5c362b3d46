"""k6's threshold grammar and semantics: what parses, what does not (and where), what holds."""

from __future__ import annotations

import pytest

from stackrig.load import ThresholdSyntaxError, parse_threshold, parse_thresholds
from stackrig.load._measures import Entry, Measures, new_histogram
from stackrig.load._thresholds import compare


def one(expr: str):  # noqa: ANN201 - a Threshold
    [threshold] = parse_threshold(expr)
    return threshold


@pytest.mark.parametrize(("expr", "metric", "key", "op", "value"), [
    ("http_req_duration: p(95)<200", "http_req_duration", "p(95)", "<", 200.0),
    ("http_req_duration:p(99.9) <= 500", "http_req_duration", "p(99.9)", "<=", 500.0),
    ("  http_req_duration :  avg>=1.5  ", "http_req_duration", "avg", ">=", 1.5),
    ("http_req_duration: min>0", "http_req_duration", "min", ">", 0.0),
    ("http_req_duration: max<1e3", "http_req_duration", "max", "<", 1000.0),
    ("http_req_duration: med==50", "http_req_duration", "med", "==", 50.0),
    ("http_req_duration: med===50", "http_req_duration", "med", "===", 50.0),
    ("http_req_duration: p(0)!=0", "http_req_duration", "p(0)", "!=", 0.0),
    ("http_req_duration: p(100)<1", "http_req_duration", "p(100)", "<", 1.0),
    ("http_req_failed: rate<0.01", "http_req_failed", "rate", "<", 0.01),
    ("http_reqs: rate>100", "http_reqs", "rate", ">", 100.0),
    ("http_reqs: count>=10", "http_reqs", "count", ">=", 10.0),
])
def test_conditions_parse_as_k6_reads_them(expr: str, metric: str, key: str, op: str, value: float) -> None:
    t = one(expr)
    assert (t.metric, t.condition.key, t.condition.operator, t.condition.value) == (metric, key, op, value)
    assert t.tags == ()


def test_the_operator_is_found_in_k6s_order() -> None:
    """k6 cuts at the first of <=, <, >=, >, ===, ==, != that has something on its right."""
    assert one("http_req_duration: p(95)>=200").condition.operator == ">="
    assert one("http_req_duration: p(95)===200").condition.operator == "==="
    assert one("http_req_duration: p(95) != 200").condition.source == "p(95)!=200"


def test_several_conditions_per_metric_as_a_list_or_commas() -> None:
    listed = parse_threshold('http_req_duration: ["p(95)<200", \'p(99) < 500\']')
    commas = parse_threshold("http_req_duration: p(95)<200, p(99)<500")
    assert [t.expr for t in listed] == [t.expr for t in commas] == [
        "http_req_duration: p(95)<200", "http_req_duration: p(99)<500"]
    mapping = parse_thresholds({"http_req_duration": ["p(95)<200", "p(99)<500"], "http_req_failed": "rate<0.01"})
    assert [t.expr for t in mapping] == [*(t.expr for t in commas), "http_req_failed: rate<0.01"]


def test_submetrics_take_tags_and_run_to_the_last_brace() -> None:
    t = one("http_req_duration{name:checkout}: p(99)<500")
    assert t.tags == (("name", "checkout"),) and t.expr == "http_req_duration{name:checkout}: p(99)<500"
    t = one("http_req_duration{ 'name' : \"http://${}.com\" , method:GET,}: max < 1000")  # k6's #2512 case
    assert t.tags == (("name", "http://${}.com"), ("method", "GET"))
    assert one("http_req_failed{status:500}: rate==0").tags == (("status", "500"),)
    assert one("http_req_duration{expected_response:true}: p(95)<1").tags == (("expected_response", "true"),)


def error(expr: str) -> ThresholdSyntaxError:
    with pytest.raises(ThresholdSyntaxError) as caught:
        parse_threshold(expr)
    return caught.value


@pytest.mark.parametrize(("expr", "column", "reason"), [
    ("http_req_duration: p(95)<<200", 26, "expected a number after '<', found '<200'"),
    ("http_req_duration: p(95)", 25, "expected an operator"),
    ("http_req_duration: p(95)<", 26, "expected a number after '<'"),
    ("http_req_duration p(95)<200", 19, "expected ':' after the metric"),
    ("http_req_durations: p(95)<200", 1, "unknown metric 'http_req_durations' (did you mean 'http_req_duration'?)"),
    ("http_req_duration: p95<200", 20, "unknown aggregation 'p95'"),
    ("http_req_duration: p( 95)<200", 22, "malformed percentile ' 95'"),
    ("http_req_duration: p(101)<200", 22, "between 0 and 100"),
    ("http_req_duration: count<200", 20, "http_req_duration is a trend: its aggregations are avg, min, max, med, "
                                         "p(N), not 'count'"),
    ("http_req_failed: p(95)<0.1", 18, "http_req_failed is a rate: its aggregations are rate"),
    ("http_reqs: avg>1", 12, "http_reqs is a counter: its aggregations are count, rate"),
    ("http_req_duration: value<1", 20, "its aggregations are avg"),
    ("http_req_duration: avg<fast", 24, "expected a number after '<', found 'fast'"),
    ("http_req_duration: avg<inf", 24, "expected a number"),
    ("http_req_duration{name:a: avg<1", 18, "unmatched '{'"),
    ("http_req_duration{}: avg<1", 19, "empty tags"),
    ("http_req_duration{name}: avg<1", 23, "malformed tag: expected TAG:VALUE"),
    ("http_req_duration{url:/x}: avg<1", 19, "unknown tag 'url'"),
    ("http_req_duration: avg<1,", 26, "expected a condition"),
    ("http_req_duration:", 19, "expected a condition after ':'"),
    ("http_req_duration: [\"avg<1\"", 20, "unmatched '['"),
    ("", 1, "expected a metric name"),
])
def test_what_does_not_parse_is_pointed_at(expr: str, column: int, reason: str) -> None:
    exc = error(expr)
    assert reason in exc.reason
    assert exc.position + 1 == column, str(exc)
    text = str(exc)
    assert f"does not parse at column {column}" in text
    lines = text.splitlines()
    assert lines[1] == "    " + expr and lines[2] == " " * (4 + column - 1) + "^"  # the caret under the column
    assert "grammar (k6's)" in text and "p(N)" in text and "http_req_failed" in text


def test_compare_is_k6s() -> None:
    assert compare(1, "<", 2) and compare(2, "<=", 2) and compare(3, ">", 2) and compare(2, ">=", 2)
    assert compare(2, "==", 2) and compare(2, "===", 2) and compare(1, "!=", 2) and not compare(2, "!=", 2)


def entry(name: str, values_ms: list[float], *, failed: bool = False, status: str = "200",
          method: str = "GET") -> Entry:
    hist = new_histogram()
    for v in values_ms:
        hist.record_value(max(1, round(v * 1000)))
    return Entry(name=name, method=method, status=status, failed=failed, count=len(values_ms),
                 sum_ms=sum(values_ms), min_ms=min(values_ms, default=0.0), max_ms=max(values_ms, default=0.0),
                 histogram=hist)


def test_values_and_verdicts_follow_k6() -> None:
    """Below 2.048 ms the histogram is exact to the microsecond, so k6's arithmetic shows exactly."""
    measures = Measures([entry("a", [0.1, 0.2, 0.3, 0.4]), entry("b", [1.0], failed=True, status="500")], 2.0)
    verdict = {expr: measures.evaluate(one(expr)) for expr in [
        "http_req_duration: avg==0.4", "http_req_duration: min==0.1", "http_req_duration: max==1",
        "http_req_duration: med==0.3", "http_req_duration: p(25)==0.2",
        "http_req_duration{name:a}: p(50)==0.25", "http_req_duration{name:a}: p(90)<=0.37",
        "http_req_duration{expected_response:true}: max==0.4", "http_req_duration{status:500}: p(99)==1",
        "http_req_failed: rate==0.2", "http_req_failed{status:500}: rate==1", "http_req_failed{name:a}: rate<0.01",
        "http_reqs: count==5", "http_reqs: rate==2.5", "http_reqs{method:GET}: count>4",
    ]}
    assert all(ok for _, ok in verdict.values()), verdict
    assert verdict["http_req_duration{name:a}: p(90)<=0.37"][0] == 0.37  # k6: 0.3 + 0.7 * (0.4 - 0.3)
    failing = measures.evaluate(one("http_req_duration: p(95)<0.5"))
    assert failing == (0.88, False)  # rank 0.95 * 4 = 3.8: 0.4 + 0.8 * (1.0 - 0.4)


def test_empty_sinks_read_as_k6_reads_them_at_the_end() -> None:
    """No samples: a trend is 0 everywhere, a counter counts 0 at rate 0, a rate has no value and holds."""
    measures = Measures([entry("a", [10])], 1.0)
    assert measures.evaluate(one("http_req_duration{name:nope}: p(95)<1")) == (0.0, True)
    assert measures.evaluate(one("http_req_duration{name:nope}: avg>0")) == (0.0, False)
    assert measures.evaluate(one("http_reqs{name:nope}: count==0")) == (0.0, True)
    assert measures.evaluate(one("http_reqs{name:nope}: rate>1")) == (0.0, False)
    assert measures.evaluate(one("http_req_failed{name:nope}: rate>0.5")) == (None, True)
