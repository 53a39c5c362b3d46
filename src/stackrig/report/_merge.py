"""Joining the reports of several CI shards into one (``stackrig report merge SHARD.json... -o report.html``).

The merged report is the union: every run (shard) in order, every test of every shard (each
pointing at its shard through ``run``), every section.  Nothing is dropped or deduplicated: a
test that ran in two shards is there twice, once per shard.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import msgspec

from ._model import FORMAT, Report, ReportError, ReportSection, Run, Test, summarize

__all__ = ["merge_reports"]


def merge_reports(reports: Iterable[Report], title: str | None = None) -> Report:
    """One report of all ``reports``: runs concatenated (unlabelled ones get ``shard N``), tests and
    sections concatenated, the summary recomputed."""
    reports = list(reports)
    if not reports:
        raise ReportError("nothing to merge: no reports given")
    runs: list[Run] = []
    tests: list[Test] = []
    sections: list[ReportSection] = []
    for number, report in enumerate(reports, 1):
        offset = len(runs)
        for run in report.runs or [Run()]:
            label = run.label or (f"shard {number}" if len(reports) > 1 else "")
            runs.append(msgspec.structs.replace(run, label=label))
        if offset:
            tests.extend(msgspec.structs.replace(t, run=t.run + offset) for t in report.tests)
        else:
            tests.extend(report.tests)
        sections.extend(report.sections)
    merged = Report(format=FORMAT, generator=reports[0].generator, created=time.time(),
                    title=title or reports[0].title, runs=runs, tests=tests, sections=sections)
    merged.summary = summarize(tests)
    return merged
