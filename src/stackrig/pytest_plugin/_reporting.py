"""The run's report (``--stackrig-report PATH``) and stackrig's sections in ``--junitxml``'s ``<system-out>``.

Collecting costs one list append per test phase: the hooks keep the report objects pytest (or,
under pytest-xdist, the workers) hand over, and everything else — grouping phases into tests,
outcomes, stackrig's sections, attachments, the stacks, the files — happens once, at session end,
in the report engine (:mod:`stackrig.report`, imported only then).  Under xdist this runs on the
controller, from the reports the workers send (their sections travel with them); each worker
sends its stack's record back in ``workeroutput``.

pytest's junitxml writes ``report.sections`` into ``<system-out>`` only for captured stdout/log
(``junit_logging``), never a plugin's; so at session end, after junitxml wrote its file, each
failing test case gets stackrig's sections (service logs, faults, taps' events) appended to its
``<system-out>`` (ini ``stackrig_junit_sections = false`` turns that off).
"""

from __future__ import annotations

import gc
import os
import socket
import sys
import time
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pathlib import Path

    from ..report import Attachment, Report, ReportSection, Stack, Test
    from ..run import RunRecord
    from ._session import StackrigSession

__all__ = ["addoption", "configure", "attach", "report_of", "ReportCollector", "JUnitSections", "ATTACHMENT"]

#: ``record_property(ATTACHMENT, path)`` (or ``{"path", "name", "mime"}``) attaches a file to the test
ATTACHMENT = "stackrig.attachment"
REPORT_KEY = pytest.StashKey["ReportCollector"]()
_WORKER_KEY = "stackrig_report_stacks"
_PREFIX = "stackrig: "


def addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("stackrig", "integration-test stacks (stackrig)")
    group.addoption("--stackrig-report", dest="stackrig_report", metavar="PATH", default=None,
                    help="write one self-contained HTML report of the run to PATH, and its data as JSON beside it")
    parser.addini("stackrig_report", "write the run's report to this path (relative to the rootdir)", default="")
    parser.addini("stackrig_junit_sections", "add stackrig's sections (service logs, faults, taps' events) of "
                  "a failing test to its <system-out> in --junitxml's file", type="bool", default=True)


def configure(config: pytest.Config) -> None:
    """Register what the options ask for: the report's collector (the worker side under xdist), the
    JUnit sections."""
    worker = hasattr(config, "workerinput")
    path = config.getoption("stackrig_report")
    if path:
        path = os.path.abspath(path)
    elif config.getini("stackrig_report"):
        path = os.path.join(str(config.rootpath), str(config.getini("stackrig_report")))
    elif os.environ.get("STACKRIG_REPORT_DIR"):  # under `stackrig run --report`: it joins this session's
        path = os.path.join(os.environ["STACKRIG_REPORT_DIR"], f"pytest-{os.getpid()}.html")
    junit_dir = os.environ.get("STACKRIG_JUNIT_DIR")
    if junit_dir and not worker and not getattr(config.option, "xmlpath", None):  # `stackrig run --junit`
        config.option.xmlpath = os.path.join(junit_dir, f"pytest-{os.getpid()}.xml")
    if path and worker:
        config.pluginmanager.register(_WorkerStacks(config), "stackrig-report-worker")
    elif path:
        collector = ReportCollector(config, path)
        config.stash[REPORT_KEY] = collector
        config.pluginmanager.register(collector, "stackrig-report")
    if not worker and getattr(config.option, "xmlpath", None) and config.getini("stackrig_junit_sections"):
        config.pluginmanager.register(JUnitSections(config), "stackrig-junit-sections")


def report_of(config: pytest.Config) -> ReportCollector | None:
    """The session's report collector (None without ``--stackrig-report``): ``add_section()`` for other engines."""
    return config.stash.get(REPORT_KEY, None)


def attach(node: pytest.Item, path: str | os.PathLike[str], name: str = "", mime: str = "") -> None:
    """Attach a file (screenshot, trace, video...) to the test's entry in the report."""
    node.user_properties.append((ATTACHMENT, {"path": os.path.abspath(path), "name": name, "mime": mime}))


# -- the stacks -------------------------------------------------------------------------------------
def _session(config: pytest.Config) -> StackrigSession | None:
    from ._session import SESSION_KEY

    return config.stash.get(SESSION_KEY, None)


def _stack(session: StackrigSession, record: RunRecord, label: str, how: str) -> dict[str, Any]:
    """A run record as the report's stack, in plain values (it crosses from xdist workers)."""
    services = []
    for info in record.services:
        spec = session.stack.services.get(info.name)
        external = info.source.startswith("shared") and not info.ready_ms
        services.append({
            "name": info.name, "kind": info.kind, "version": info.version, "source": info.source, "url": info.url,
            "host": info.host, "port": info.port, "ports": list(info.ports), "pids": list(info.pids),
            "depends_on": list(spec.depends_on) if spec is not None else [], "ready_ms": info.ready_ms,
            "start_ms": getattr(info, "start_ms", None),  # when the run record has it; else estimated
            "log": info.log, "proxied": info.proxied, "external": external})
    return {"label": label, "stack_file": record.stack_file, "run_id": record.run_id, "how": how,
            "ready_ms": record.ready_ms, "services": services, "warnings": session.warnings()}


def _stacks(config: pytest.Config, label: str = "") -> list[dict[str, Any]]:
    session = _session(config)
    if session is None:
        return []
    found = []
    took = f" in {session.start_ms:.0f} ms" if session.start_ms is not None else ""
    if session.rig is not None:
        how = f"attached to {session.attached_from}{took}" if session.attached_from else f"started{took}"
        found.append(_stack(session, session.rig.record, label, how))
    if session.shared is not None and session.shared.services and \
            (session.rig is None or session.shared.run_id != session.rig.run_id):
        found.append(_stack(session, session.shared, "servers shared by the xdist workers", "started for the session"))
    return found


class _WorkerStacks:
    """On an xdist worker: send this worker's stack to the controller."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_sessionfinish(self) -> None:  # before xdist sends workeroutput (its wrapper's end)
        worker = str(self.config.workerinput.get("workerid", ""))  # type: ignore[attr-defined]
        try:
            stacks = _stacks(self.config, worker)
        except Exception as exc:  # the report must never break the run
            stacks = [{"label": worker, "warnings": [f"stackrig report: could not describe the stack: {exc!r}"]}]
        self.config.workeroutput[_WORKER_KEY] = stacks  # type: ignore[attr-defined]


# -- the report ---------------------------------------------------------------------------------------
class ReportCollector:
    """Keeps the run's reports; writes the report at session end."""

    def __init__(self, config: pytest.Config, path: str) -> None:
        self.config = config
        self.path = path
        self.reports: list[Any] = []  # TestReport, and CollectReport of modules that failed to collect
        self.sections: list[ReportSection] = []
        self.worker_stacks: list[dict[str, Any]] = []
        self.started = time.time()
        self.written: tuple[Path, Path] | None = None
        self.error = ""
        self.tests = 0
        self.seconds = 0.0  # spent at session end: building and writing the report

    def add_section(self, section: ReportSection) -> None:
        """A report-level section (load results, scan findings, pact verifications, coverage, a table)."""
        self.sections.append(section)

    def pytest_sessionstart(self) -> None:
        self.started = time.time()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.reports.append(report)  # all the per-test work: the rest happens once, at session end

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.reports.append(report)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        self.worker_stacks.extend(getattr(node, "workeroutput", {}).get(_WORKER_KEY) or [])

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        t0 = time.perf_counter()
        collecting = gc.isenabled()
        gc.disable()  # building allocates ~10 objects a test: no full collections over the session's heap
        try:
            from ..report import write_report

            report = self.build(int(exitstatus))
            self.tests = len(report.tests)
            self.written = write_report(report, self.path)
        except Exception as exc:  # the report must never break the run: say so in the summary
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            if collecting:
                gc.enable()
        self.seconds = time.perf_counter() - t0

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.written is not None:
            tests = f"{self.tests} test{'' if self.tests == 1 else 's'}"
            terminalreporter.write_sep("-", f"stackrig report: {self.written[0]} (data: {self.written[1].name}; "
                                            f"{tests}, written in {self.seconds * 1000:.0f} ms)")
        elif self.error:
            terminalreporter.write_sep("-", f"stackrig report: not written: {self.error}", red=True)

    def build(self, exitstatus: int | None = None) -> Report:
        """The report of what was collected so far."""
        from ..report import FORMAT, Report, Run, Service, Stack, estimate_starts

        stacks: list[Stack] = []
        for data in [*_stacks(self.config), *self.worker_stacks]:
            services = [Service(**s) for s in data.get("services", [])]
            estimate_starts(services)
            stacks.append(Stack(**{**data, "services": services}))
        names = {s.name for st in stacks for s in st.services} or None
        run = Run(started=self.started, duration=round(time.time() - self.started, 3),
                  command=list(self.config.invocation_params.args), rootdir=str(self.config.rootpath),
                  host=socket.gethostname(), python=sys.version.split()[0], pytest=pytest.__version__,
                  workers=_workers(self.config),
                  exitstatus=exitstatus, stacks=stacks)
        return Report(format=FORMAT, generator=_generator(), created=time.time(), runs=[run],
                      tests=_tests(self.config, self.reports, names),
                      sections=[*self.sections, *_engine_sections(self.config)])


def _workers(config: pytest.Config) -> int:
    if getattr(config.option, "dist", "no") == "no":
        return 0
    return int(getattr(config.option, "numprocesses", 0) or 0)


def _generator() -> str:
    try:
        from importlib.metadata import version

        return f"stackrig {version('stackrig')}"
    except Exception:
        return "stackrig"


def _groups(reports: list[Any]) -> list[list[Any]]:
    """Reports grouped per test run, in order: (node id, worker); a setup after a teardown is a new run."""
    open_groups: dict[tuple[object, object], list[Any]] = {}
    groups: list[list[Any]] = []
    for rep in reports:
        fields = rep.__dict__  # not getattr: no property, no AttributeError per report
        ident = fields.get("_id", fields.get("nodeid"))  # pytest 9 keeps a structured id, earlier ones the string
        if ident is None:
            ident = rep.nodeid
        key = (ident, fields.get("worker_id"))
        group = open_groups.get(key)
        if group is None or rep.when in ("setup", "collect") and group[-1].when in ("teardown", "collect"):
            group = open_groups[key] = []
            groups.append(group)
        group.append(rep)
    return groups


def _message(rep: Any) -> str:
    if hasattr(rep, "wasxfail"):
        return str(rep.wasxfail or "expected to fail")
    longrepr = rep.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # a skip: (path, line, "Skipped: why")
        return str(longrepr[2]).removeprefix("Skipped: ")
    crash = getattr(longrepr, "reprcrash", None)
    message = getattr(crash, "message", None) or rep.longreprtext.strip().split("\n", 1)[0]
    return str(message)[:2000]


def _tests(config: pytest.Config, reports: list[Any], services: set[str] | None) -> list[Test]:
    from ..report import Phase, Test, fill_sections, outcome_of

    tests: list[Test] = []
    for group in _groups(reports):
        if len(group) == 3:  # the common case first: three phases that passed, nothing attached
            setup, call, teardown = group
            if setup.outcome == call.outcome == teardown.outcome == "passed" and not teardown.user_properties \
                    and "wasxfail" not in call.__dict__:
                d0, d1, d2 = round(setup.duration, 6), round(call.duration, 6), round(teardown.duration, 6)
                tests.append(Test(id=setup.nodeid, duration=round(d0 + d1 + d2, 6), phases=[
                    Phase("setup", "passed", d0), Phase("call", "passed", d1), Phase("teardown", "passed", d2)]))
                continue
        phases = [Phase(r.when, r.outcome, round(getattr(r, "duration", 0.0) or 0.0, 6)) for r in group]
        duration = round(sum(p.duration for p in phases), 6)
        xfail = any(hasattr(r, "wasxfail") for r in group)
        outcome = outcome_of(phases, xfail)
        props = getattr(group[-1], "user_properties", None) or []
        if outcome == "passed" and not props:
            tests.append(Test(id=group[0].nodeid, duration=duration, phases=phases))
            continue
        worker = getattr(group[0], "worker_id", "") or ""
        test = Test(id=group[0].nodeid, outcome=outcome, duration=duration, phases=phases,  # type: ignore[arg-type]
                    worker=worker)
        if outcome != "passed":
            bad = [r for r in group if r.outcome not in ("passed",)]
            test.message = _message(bad[0]) if bad else _message(group[0])
            failing = [r for r in bad if r.failed]
            texts = [(r.when, r.longreprtext) for r in failing if r.longreprtext]
            test.longrepr = texts[0][1] if len(texts) == 1 else "\n\n".join(f"--- {w} ---\n{t}" for w, t in texts)
            location = getattr(group[0], "location", None)
            if location:
                test.file, test.line = str(location[0]), location[1]
            fill_sections(test, [s for r in group for s in r.sections], services)
            test.attachments.extend(_playwright_artifacts(config, test.id))
        test.attachments.extend(_attachments(props))
        tests.append(test)
    return tests


def _attachments(props: list[tuple[str, object]]) -> list[Attachment]:
    from ..report import attachment

    found = []
    for name, value in props:
        if name != ATTACHMENT:
            continue
        if isinstance(value, dict):
            found.append(attachment(str(value.get("path", "")), str(value.get("name") or ""),
                                    str(value.get("mime") or "")))
        else:
            found.append(attachment(str(value)))
    return found


def _playwright_artifacts(config: pytest.Config, nodeid: str) -> list[Attachment]:
    """pytest-playwright's screenshots, traces and videos of a test (``--output``/slug(node id)/)."""
    module = sys.modules.get("pytest_playwright.pytest_playwright")
    slugify = getattr(module, "slugify", None)
    if slugify is None:
        return []
    try:
        output = str(config.getoption("--output"))
    except ValueError:
        return []
    truncate = getattr(module, "_truncate_file_name", lambda name: name)
    folder = os.path.join(os.path.abspath(output), truncate(slugify(nodeid)))
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    from ..report import attachment

    return [attachment(os.path.join(folder, n)) for n in names if os.path.isfile(os.path.join(folder, n))]


# -- JUnit ----------------------------------------------------------------------------------------
def _mangle(nodeid: str) -> list[str]:
    try:
        from _pytest.junitxml import mangle_test_address
    except ImportError:  # what it does: path as a dotted module, then the names
        names = nodeid.split("::")
        names[0] = names[0].replace("/", ".").removesuffix(".py")
        return names
    return list(mangle_test_address(nodeid))


class JUnitSections:
    """Appends stackrig's sections of each failing test to its ``<system-out>`` in ``--junitxml``'s file."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.failed: list[pytest.TestReport] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed and any(title.startswith(_PREFIX) for title, _ in report.sections):
            self.failed.append(report)

    @pytest.hookimpl(trylast=True)  # after junitxml's pytest_sessionfinish wrote the file
    def pytest_sessionfinish(self) -> None:
        if not self.failed:
            return
        path = os.path.normpath(os.path.abspath(os.path.expanduser(os.path.expandvars(self.config.option.xmlpath))))
        if not os.path.isfile(path):
            return
        prefix = getattr(self.config.option, "junitprefix", None)
        outputs = []
        for rep in self.failed:
            names = _mangle(rep.nodeid)
            classname = ".".join(([prefix] if prefix else []) + names[:-1])
            text = "\n".join(f"{f' {title} ':-^80}\n{body}" for title, body in rep.sections
                             if title.startswith(_PREFIX))
            outputs.append((classname, names[-1], text))
        try:
            from ..report import add_system_out

            add_system_out(path, outputs)
        except Exception as exc:  # never break the run over it
            sys.stderr.write(f"stackrig: could not add the service logs to {path}: {exc}\n")


def _engine_sections(config: pytest.Config) -> list[ReportSection]:
    """What the session's engines measured: coverage of the services, rig.load(), rig.scan() and pact
    verification results."""
    from ..report import Attachment, CoverageResult, FileCoverage, Finding, LoadResult, ScanResult, Threshold

    session = _session(config)
    if session is None:
        return []
    out: list[ReportSection] = []
    for c in session.coverage:
        files = [FileCoverage(path=p, covered=round(pct), total=100) for p, pct in sorted(c.files.items())]
        out.append(CoverageResult(title=f"coverage of {c.service}", service=c.service, language=c.language,
                                  lines_covered=c.covered, lines_total=c.total, files=files, html=c.data))
    for name, result in session.rig.results if session.rig is not None else []:
        kind = type(result).__module__
        if kind.startswith("stackrig.load"):
            total = result.requests.get("all")
            out.append(LoadResult(
                title=f"load on {name}", tool="stackrig load (locust)", target=name,
                duration=result.elapsed_s, requests=total.count if total else 0,
                failures=total.failures if total else 0, rps=total.rps if total else None,
                latency_ms={"p50": total.p50_ms, "p95": total.p95_ms, "p99": total.p99_ms, "max": total.max_ms}
                if total else {},
                thresholds=[Threshold(name=t.expr,
                                      ok=t.ok, value="" if t.value is None else f"{t.value:g}")
                            for t in result.thresholds],
                charts=[Attachment(name=os.path.basename(c), path=c, mime="image/svg+xml") for c in result.charts],
                ok=result.ok))
        elif kind.startswith("stackrig.scan"):
            out.append(ScanResult(
                title=f"security scan of {name}", tool="stackrig scan (schemathesis)", target=result.target,
                findings=[Finding(severity=f.severity if f.severity in ("critical", "high", "medium", "low")
                                  else "info", title=f"{f.kind}: {f.title}", location=f.operation)
                          for f in result.findings]))
        elif kind.startswith("stackrig.pact"):
            out.extend(_pact_sections(name, result))
    return out


def _pact_sections(provider: str, report: Any) -> list[ReportSection]:
    """One section per consumer of a verification (`rig.pact_verify`, the `pact_verify` fixture)."""
    from ..report import Interaction, PactResult

    by_consumer: dict[str, list[Any]] = {}
    for result in report.results:
        by_consumer.setdefault(result.consumer, []).append(result)
    return [PactResult(title=f"pact {consumer} -> {provider}", consumer=consumer, provider=provider,
                       ok=all(r.ok or r.pending for r in results) and not report.errors,
                       interactions=[Interaction(description=r.description, ok=r.ok, state=", ".join(r.states),
                                                 mismatches=[m.line() for m in r.mismatches]) for r in results])
            for consumer, results in sorted(by_consumer.items())]
