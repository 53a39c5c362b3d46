"""One report of the whole run: a self-contained HTML page and the ``report.json`` it is rendered from.

An engine (it knows nothing of pytest): the model (:mod:`._model`, ``"format": 1``), writing and
reading reports, merging the reports of several CI shards, and JUnit XML (merging several
runners' files, converting ``go test -json``).  The pytest plugin fills a :class:`Report` at the
end of a session (``pytest --stackrig-report report.html``)::

    from stackrig.report import load_report, merge_reports, write_report

    merged = merge_reports([load_report(p) for p in ["shard1/report.json", "shard2/report.json"]])
    html_path, json_path = write_report(merged, "report.html")

    from stackrig.report import merge_junit
    merge_junit(["pytest.xml", "jest-junit.xml", "go-test.json"], "junit.xml")

Imported lazily: ``import stackrig.report`` costs nothing until a name is used.
"""

from .._lazy import lazy_exports

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._build import (
        attachment as attachment,
        estimate_starts as estimate_starts,
        fill_sections as fill_sections,
        outcome_of as outcome_of,
        parse_logs as parse_logs,
    )
    from ._gotest import go_test_json_to_junit as go_test_json_to_junit
    from ._html import render_html as render_html
    from ._io import load_report as load_report, report_paths as report_paths, write_report as write_report
    from ._junit import add_system_out as add_system_out, merge_junit as merge_junit
    from ._merge import merge_reports as merge_reports
    from ._model import (
        FORMAT as FORMAT,
        OUTCOMES as OUTCOMES,
        Attachment as Attachment,
        CoverageResult as CoverageResult,
        FileCoverage as FileCoverage,
        Finding as Finding,
        Interaction as Interaction,
        LoadResult as LoadResult,
        PactResult as PactResult,
        Phase as Phase,
        Report as Report,
        ReportError as ReportError,
        ReportSection as ReportSection,
        Run as Run,
        ScanResult as ScanResult,
        Section as Section,
        Service as Service,
        ServiceLog as ServiceLog,
        Stack as Stack,
        StubRequest as StubRequest,
        TableSection as TableSection,
        Test as Test,
        Threshold as Threshold,
        report_schema as report_schema,
        summarize as summarize,
    )

_EXPORTS = {
    "attachment": "._build", "estimate_starts": "._build", "fill_sections": "._build", "outcome_of": "._build",
    "parse_logs": "._build",
    "go_test_json_to_junit": "._gotest",
    "render_html": "._html",
    "load_report": "._io", "report_paths": "._io", "write_report": "._io",
    "add_system_out": "._junit", "merge_junit": "._junit",
    "merge_reports": "._merge",
    **{name: "._model" for name in (
        "FORMAT", "OUTCOMES", "Attachment", "CoverageResult", "FileCoverage", "Finding", "Interaction", "LoadResult",
        "PactResult", "Phase", "Report", "ReportError", "ReportSection", "Run", "ScanResult", "Section", "Service",
        "ServiceLog", "Stack", "StubRequest", "TableSection", "Test", "Threshold", "report_schema", "summarize")},
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
