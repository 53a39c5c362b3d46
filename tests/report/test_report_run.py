"""``pytest --stackrig-report``: what report.json holds after a real run, under xdist too."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest
from report_helpers import Run, run_pytest

from stackrig.report import Report, ReportError, load_report, report_schema


def test_the_report_validates_against_the_model(real_run: Run) -> None:
    assert "stackrig report:" in real_run.done.stdout
    report = load_report(real_run.json)
    strict = msgspec.json.decode(real_run.json.read_bytes(), type=Report)  # the model, strictly
    assert strict.format == 1 and len(strict.tests) == len(report.tests)
    assert json.loads(real_run.json.read_text())["format"] == 1
    assert report_schema()["$ref"]  # a JSON Schema exists for other tools
    assert load_report(real_run.html) == report  # the HTML embeds the same JSON


def test_every_test_is_there_with_its_outcome_and_phases(real_run: Run) -> None:
    report = load_report(real_run.json)
    outcomes = {t.id.split("::")[1]: t.outcome for t in report.tests}
    assert outcomes["test_ok_one"] == "passed"
    assert outcomes["test_fails_with_logs"] == "failed"
    assert outcomes["test_skipped"] == "skipped"
    assert outcomes["test_expected_to_fail"] == "xfailed"
    assert len(report.tests) == 11
    assert report.summary == {"failed": 1, "error": 0, "xpassed": 0, "rerun": 0, "skipped": 1, "xfailed": 1,
                              "passed": 8, "total": 11}
    ok = next(t for t in report.tests if t.id.endswith("test_ok_two"))
    assert [p.when for p in ok.phases] == ["setup", "call", "teardown"]
    assert ok.duration == pytest.approx(sum(p.duration for p in ok.phases), abs=1e-5)
    skipped = next(t for t in report.tests if t.outcome == "skipped")
    assert skipped.message == "not today"


def test_passing_tests_carry_only_what_they_need(real_run: Run) -> None:
    data = json.loads(real_run.json.read_text())
    passed = [t for t in data["tests"] if "outcome" not in t]
    assert passed and all(set(t) <= {"id", "duration", "phases"} for t in passed)


def test_a_failure_carries_its_error_service_logs_sections_and_attachments(real_run: Run) -> None:
    report = load_report(real_run.json)
    failed = next(t for t in report.tests if t.outcome == "failed")
    assert failed.message.startswith("AssertionError: boom from the failing test")
    assert "assert 1 == 2" in failed.longrepr
    assert failed.file == "test_suite.py" and failed.line is not None
    (log,) = failed.logs
    assert (log.service, log.kind) == ("api", "process")
    assert log.lines == ["request /during-the-failing-test"] and log.path.endswith("api.log")
    assert any(s.title == "Captured stdout call" and "printed by the failing test" in s.text for s in failed.sections)
    assert not any(s.title.startswith("stackrig:") for s in failed.sections)  # sorted into their fields
    shot, trace = failed.attachments
    assert shot.mime == "image/png" and shot.data.startswith("data:image/png;base64,")
    assert trace.name == "browser trace" and not trace.data
    written = msgspec.json.decode(real_run.json.read_bytes())
    paths = [a["path"] for t in written["tests"] for a in t.get("attachments", [])]
    assert len(paths) == 2 and not any(Path(p).is_absolute() for p in paths)  # relative to the report's folder
    assert Path(trace.path).is_absolute() and Path(trace.path).exists()  # load_report resolves them


def test_the_stack_is_described(real_run: Run) -> None:
    report = load_report(real_run.json)
    (run,) = report.runs
    assert run.exitstatus == 1 and run.pytest and run.python and "--stackrig-report" in run.command
    (stack,) = run.stacks
    assert stack.how.startswith("started in ")
    (api,) = stack.services
    assert api.kind == "process" and api.port and api.url.startswith("http://127.0.0.1:")
    assert api.pids and api.ready_ms is not None and api.ready_ms > 0
    assert api.start_ms is not None and api.start_ms >= 0 and not api.start_estimated  # from the run record


def test_xdist_report_has_every_test_once(xdist_run: Run) -> None:
    run = xdist_run
    assert run.done.returncode == 1, run.done.stdout[-3000:] + run.done.stderr[-3000:]
    report = load_report(run.json)
    ids = [t.id for t in report.tests]
    assert len(ids) == len(set(ids)) == 11
    failed = next(t for t in report.tests if t.outcome == "failed")
    assert failed.worker in ("gw0", "gw1")
    assert failed.logs and failed.logs[0].lines == ["request /during-the-failing-test"]  # travelled with the report
    labels = sorted(s.label for s in report.runs[0].stacks)
    assert "gw0" in labels and "gw1" in labels, labels
    assert report.runs[0].workers == 2


def test_the_report_works_without_a_stack_and_never_breaks_the_run(tmp_path: Path) -> None:
    run = run_pytest(tmp_path, suite="def test_plain():\n    pass\n", stack=False)
    assert run.done.returncode == 0, run.done.stdout
    report = load_report(run.json)
    assert [t.outcome for t in report.tests] == ["passed"] and report.runs[0].stacks == []
    bad = run_pytest(tmp_path / "bad", "--stackrig-report", "/proc/no/such/dir/report.html",
                     suite="def test_plain():\n    pass\n", stack=False)
    assert bad.done.returncode == 0 and "stackrig report: not written" in bad.done.stdout


def test_collection_errors_are_reported(tmp_path: Path) -> None:
    run = run_pytest(tmp_path, suite="import no_such_module_here\n", stack=False)
    report = load_report(run.json)
    (error,) = report.tests
    assert error.outcome == "error" and "no_such_module_here" in error.longrepr


def test_unreadable_reports_say_why(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text('{"format": 7, "tests": []}')
    (tmp_path / "b.json").write_text('{"format": 1, "tests": [{"outcome": "passed"}]}')
    (tmp_path / "c.json").write_text("nope")
    with pytest.raises(ReportError, match="report format 7"):
        load_report(tmp_path / "a.json")
    with pytest.raises(ReportError, match="not a valid report.*id"):
        load_report(tmp_path / "b.json")
    with pytest.raises(ReportError, match="not JSON"):
        load_report(tmp_path / "c.json")
    with pytest.raises(ReportError, match="cannot read"):
        load_report(tmp_path / "missing.json")

