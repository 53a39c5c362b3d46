"""`stackrig run --report/--junit -- CMD`: one report and one JUnit file of everything CMD's runners
wrote (a pytest session and a go test -json stream here), with the run's stack."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

from helpers import run_cli

GO_JSON = "\n".join(json.dumps(e) for e in [
    {"Action": "run", "Package": "shipping", "Test": "TestQuote"},
    {"Action": "pass", "Package": "shipping", "Test": "TestQuote", "Elapsed": 0.01},
    {"Action": "run", "Package": "shipping", "Test": "TestFree"},
    {"Action": "output", "Package": "shipping", "Test": "TestFree", "Output": "quote_test.go:9: want 0, got 5\n"},
    {"Action": "fail", "Package": "shipping", "Test": "TestFree", "Elapsed": 0.02},
    {"Action": "fail", "Package": "shipping", "Elapsed": 0.05},
]) + "\n"


def test_one_report_and_one_junit_of_a_run(stackfile: Callable[[str], Path]) -> None:
    path = stackfile('[services.app]\nkind = "process"\ncommand = "sleep 60"\nport = false\n')
    folder = path.parent
    (folder / "test_app.py").write_text("def test_ok(rig):\n    assert rig['app'].running\n\n"
                                        "def test_bad(rig):\n    assert False, 'boom'\n")
    (folder / "go.json").write_text(GO_JSON)
    script = (f"{sys.executable} -m pytest -q -p no:randomly -p no:playwright test_app.py; "
              "cp go.json $STACKRIG_JUNIT_DIR/go.json; exit 1")
    done = run_cli("run", "--report", "report.html", "--junit", "all.xml", "--", "sh", "-c", script, cwd=folder,
                   timeout=180)
    assert done.returncode == 1, done.stderr
    assert "junit: " in done.stderr and "(from 2 files)" in done.stderr
    import junitparser

    cases = {(c.classname, c.name): c for suite in junitparser.JUnitXml.fromfile(str(folder / "all.xml"))
             for c in suite}
    assert ("test_app", "test_ok") in cases and ("shipping", "TestFree") in cases
    data = json.loads((folder / "report.json").read_text())
    outcomes = {t["id"]: t.get("outcome", "passed") for t in data["tests"]}
    assert outcomes["test_app.py::test_bad"] == "failed" and outcomes["test_app.py::test_ok"] == "passed"
    assert outcomes["shipping::TestFree"] == "failed" and outcomes["shipping::TestQuote"] == "passed"
    services = {s["name"] for run in data["runs"] for st in run["stacks"] for s in st["services"]}
    assert "app" in services
    assert (folder / "report.html").read_text().startswith("<!doctype html>") or (folder / "report.html").exists()


def test_merge_verbs(stackfile: Callable[[str], Path]) -> None:
    folder = stackfile('[services.x]\nkind = "process"\ncommand = "true"\nport = false\n').parent
    (folder / "go.json").write_text(GO_JSON)
    done = run_cli("report", "junit", "go.json", "-o", "out.xml", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert "TestFree" in (folder / "out.xml").read_text()
    bad = run_cli("report", "merge", "nope.json", cwd=folder)
    assert bad.returncode == 2 and "nope.json" in bad.stderr
