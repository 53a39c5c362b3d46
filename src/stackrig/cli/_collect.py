"""What `stackrig run --report/--junit` gathers after the command: the JUnit files and pytest reports
its runners wrote, merged into one JUnit file and one report with the run's stack."""

from __future__ import annotations

import os
import socket
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Literal

from ..errors import StackrigError
from ..run import StackRunner

__all__ = ["write_collected"]


def _junit_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix in (".xml", ".json") and p.stat().st_size)


def _tests_from_junit(path: Path) -> list[Any]:
    """JUnit test cases as report tests (for runners that are not pytest: Jest, go test)."""
    from ..report import Test

    tests = []
    for case in ET.parse(path).getroot().iter("testcase"):
        failure = case.find("failure") if case.find("failure") is not None else case.find("error")
        skipped = case.find("skipped") is not None
        outcome: Literal["failed", "skipped", "passed"] = ("failed" if failure is not None
                                                           else "skipped" if skipped else "passed")
        text = (failure.get("message", "") if failure is not None else "")
        tests.append(Test(id=f"{case.get('classname', '')}::{case.get('name', '')}".strip(":"), outcome=outcome,
                          duration=float(case.get("time") or 0), message=text.splitlines()[0] if text else "",
                          longrepr=(failure.text or "") if failure is not None else ""))
    return tests


def _stack(runner: StackRunner) -> Any:
    from ..report import Service, Stack

    record = runner.record
    if record is None:
        return Stack()
    services = [Service(name=s.name, kind=s.kind, version=s.version, source=s.source, url=s.url, host=s.host,
                        port=s.port, ports=list(s.ports), pids=list(s.pids), depends_on=list(s.depends_on),
                        ready_ms=s.ready_ms, start_ms=s.start_ms, log=s.log, proxied=s.proxied)
                for s in record.services]
    return Stack(label="stackrig run", stack_file=record.stack_file, run_id=record.run_id,
                 how=f"started in {record.ready_ms:.0f} ms", ready_ms=record.ready_ms, services=services,
                 warnings=list(record.warnings))


def write_collected(folder: Path, runner: StackRunner, report: str | None, junit: str | None,
                    command: list[str], code: int) -> list[str]:
    """Write what was asked; return the lines to print."""
    from ..report import FORMAT, Report, Run, load_report, merge_junit, merge_reports, write_report

    lines: list[str] = []
    junit_files = _junit_files(folder / "junit") if (folder / "junit").exists() else []
    merged_junit: Path | None = None
    if junit:
        if junit_files:
            merged_junit = merge_junit(junit_files, junit)
            lines.append(f"junit: {merged_junit} (from {len(junit_files)} files)")
        else:
            lines.append(f"junit: nothing to merge: the command's runners wrote no JUnit file in "
                         f"$STACKRIG_JUNIT_DIR ({folder / 'junit'})")
    if report:
        reports = [load_report(p) for p in sorted((folder / "reports").glob("*.json"))]
        pytest_junit = {p for p in junit_files if p.name.startswith("pytest-")}
        tests = [t for p in junit_files if p not in pytest_junit and p.suffix == ".xml" for t in _tests_from_junit(p)]
        if any(p.suffix == ".json" for p in junit_files):  # go test -json streams
            import tempfile

            from ..report import go_test_json_to_junit

            for p in junit_files:
                if p.suffix == ".json":
                    with tempfile.NamedTemporaryFile("w", suffix=".xml", delete=False) as f:
                        f.write(go_test_json_to_junit(p.read_text().splitlines()))
                    tests += _tests_from_junit(Path(f.name))
                    os.unlink(f.name)
        own = Report(format=FORMAT, generator=f"stackrig run ({sys.argv[0]})", created=time.time(),
                     runs=[Run(label="stackrig run", started=time.time(), command=command, rootdir=os.getcwd(),
                               host=socket.gethostname(), python=sys.version.split()[0], exitstatus=code,
                               stacks=[_stack(runner)])],
                     tests=tests)
        try:
            html, data = write_report(merge_reports([own, *reports]), report)
        except StackrigError as exc:
            lines.append(f"report: not written: {exc}")
        else:
            lines.append(f"report: {html} ({data.name})")
    return lines
