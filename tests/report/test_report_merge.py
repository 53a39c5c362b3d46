"""Merging the reports of CI shards; the engine's pieces (outcomes, log sections, start offsets)."""

from __future__ import annotations

from pathlib import Path

import pytest
from report_helpers import PNG, run_pytest

from stackrig.report import (
    FORMAT,
    Phase,
    Report,
    ReportError,
    Service,
    Test as ReportTest,
    estimate_starts,
    fill_sections,
    load_report,
    merge_reports,
    outcome_of,
    parse_logs,
    write_report,
)

SHARDED = f'''
import pytest

@pytest.mark.parametrize("n", range(8))
def test_number(n, record_property, tmp_path):
    if n == 3:
        shot = tmp_path / "shot.png"
        shot.write_bytes(bytes.fromhex("{PNG.hex()}"))
        record_property("stackrig.attachment", str(shot))
    assert n != 5, "five is right out"

def test_words():
    pytest.skip("no words")
'''


def test_merging_two_shards_gives_their_union(tmp_path: Path) -> None:
    one = run_pytest(tmp_path / "shard1", "-k", "number and not 6 and not 7", suite=SHARDED, stack=False)
    two = run_pytest(tmp_path / "shard2", "-k", "6 or 7 or words", suite=SHARDED, stack=False)
    a, b = load_report(one.json), load_report(two.json)
    assert len(a.tests) == 6 and len(b.tests) == 3
    merged = merge_reports([a, b])
    html, json_path = write_report(merged, tmp_path / "merged" / "report.html")
    back = load_report(json_path)
    assert {(t.id, t.outcome) for t in back.tests} == {(t.id, t.outcome) for t in [*a.tests, *b.tests]}
    assert len(back.tests) == len(a.tests) + len(b.tests)
    assert [r.label for r in back.runs] == ["shard 1", "shard 2"]
    assert {t.id.split("::")[1] for t in back.tests if t.run == 1} == {"test_number[6]", "test_number[7]", "test_words"}
    assert back.summary["total"] == 9 and back.summary["failed"] == 1 and back.summary["skipped"] == 1
    assert back.summary["passed"] == a.summary["passed"] + b.summary["passed"]
    (shot,) = [att for t in back.tests for att in t.attachments]
    assert Path(shot.path).exists()  # the shard's relative path, rebased to the merged report's folder
    assert html.exists() and load_report(html).tests == back.tests


def test_merge_needs_reports() -> None:
    with pytest.raises(ReportError, match="nothing to merge"):
        merge_reports([])


def test_outcomes_follow_pytest() -> None:
    def ph(*outcomes: str) -> list[Phase]:
        return [Phase(w, o, 0.0) for w, o in zip(("setup", "call", "teardown"), outcomes, strict=False)]

    assert outcome_of(ph("passed", "passed", "passed"), False) == "passed"
    assert outcome_of(ph("passed", "failed", "failed"), False) == "failed"
    assert outcome_of(ph("failed", "passed"), False) == "error"
    assert outcome_of(ph("passed", "passed", "failed"), False) == "error"
    assert outcome_of(ph("skipped", "passed"), False) == "skipped"
    assert outcome_of(ph("passed", "skipped", "passed"), True) == "xfailed"
    assert outcome_of(ph("passed", "passed", "passed"), True) == "xpassed"


LOGS = """--- db (postgres, /r/logs/db.log): nothing logged during the test
--- api (process, /r/logs/api (1).log) (last 2 of 40 lines)
--- not a header (x, y)
request /b"""


def test_the_log_section_is_parsed_per_service() -> None:
    db, api = parse_logs(LOGS, ["db", "api"]) or []
    assert (db.service, db.kind, db.path, db.lines, db.total) == ("db", "postgres", "/r/logs/db.log", [], 0)
    assert (api.service, api.path, api.total) == ("api", "/r/logs/api (1).log", 40)
    assert api.lines == ["--- not a header (x, y)", "request /b"]  # 'not' is no service of the stack
    assert parse_logs("something else entirely") is None
    test = ReportTest(id="t", outcome="failed")
    fill_sections(test, [("stackrig: service logs during this test", "free text"), ("Captured log call", "x"),
                         ("stackrig: faults active when the test failed", "db: down"),
                         ("stackrig: events the test's taps saw", "events orders.>: 0 events"),
                         ("stackrig: stub requests that matched nothing", "payments POST /charges -- POST /charge")],
                  ["db"])
    assert [s.title for s in test.sections] == ["stackrig: service logs during this test", "Captured log call"]
    assert test.faults == "db: down" and test.events.startswith("events")
    (req,) = test.unmatched
    assert (req.service, req.method, req.url, req.closest) == ("payments", "POST", "/charges", "POST /charge")


def test_start_offsets_are_estimated_from_depends_on() -> None:
    services = [Service(name="db", ready_ms=300.0), Service(name="cache", ready_ms=50.0),
                Service(name="api", depends_on=["db", "cache"], ready_ms=200.0),
                Service(name="worker", depends_on=["api"], ready_ms=10.0),
                Service(name="shared", ready_ms=0.0, external=True),
                Service(name="known", ready_ms=5.0, start_ms=42.0)]
    estimate_starts(services)
    starts = {s.name: s.start_ms for s in services}
    assert starts == {"db": 0.0, "cache": 0.0, "api": 300.0, "worker": 500.0, "shared": None, "known": 42.0}
    assert [s.start_estimated for s in services] == [True, True, True, True, False, False]


def test_write_report_takes_either_path_and_embeds_safely(tmp_path: Path) -> None:
    hostile = "test_x[</script><script>alert(1)</script><!--]"
    report = Report(format=FORMAT, tests=[ReportTest(id=hostile, outcome="failed", longrepr="<b>&amp;</b>")])
    html, data = write_report(report, tmp_path / "r.json")
    assert (html.name, data.name) == ("r.html", "r.json") and html.exists()
    assert "alert(1)</script>" not in html.read_text()  # no text ends the data element
    assert load_report(html).tests == load_report(data).tests == report.tests
