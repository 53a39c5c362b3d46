"""The stack of one pytest session: attach or start it, reset between tests, xdist roles.

With a stack file in the rootdir (or ``--stackrig-file``), the first test that asks for
``rig`` brings the stack up once for the session — or attaches, in milliseconds, to one
already running for the same stack file (``stackrig up -d`` in another terminal, or
``stackrig run -- pytest``).  Under pytest-xdist the controller starts the servers that can be
shared (their kind has a slicer) and each worker runs its own slice plus its own processes.
"""

from __future__ import annotations

import os
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from ..config import StackFile
from ..errors import StackrigError
from ..rig import Resets, Rig, make_slices, serve_resets, shared_services
from ..run import RunRecord, StackRunner, read_current
from ._report import LogMarks, active_faults

__all__ = ["StackrigSession", "session_of", "SESSION_KEY", "STATE_ENV"]

STATE_ENV = "STACKRIG_STATE"
SESSION_KEY = pytest.StashKey["StackrigSession"]()


def session_of(config: pytest.Config) -> StackrigSession:
    session = config.stash.get(SESSION_KEY, None)
    if session is None:
        raise pytest.UsageError(
            "the `rig` fixture needs a stack file: put stackrig.toml in the rootdir "
            f"({config.rootpath}) or pass --stackrig-file PATH (and do not pass --no-stackrig)")
    return session


def _xdist_role(config: pytest.Config) -> str:
    """'worker', 'controller' (xdist distributing to workers) or 'single'."""
    if hasattr(config, "workerinput"):
        return "worker"
    if config.pluginmanager.hasplugin("xdist") and getattr(config.option, "numprocesses", None) and \
            getattr(config.option, "dist", "no") != "no":
        return "controller"
    return "single"


class StackrigSession:
    """Owns (or attaches to) the stack for one pytest session."""

    def __init__(self, config: pytest.Config, stack: StackFile) -> None:
        self.config = config
        self.stack = stack
        self.runner: StackRunner | None = None
        self.rig: Rig | None = None
        self.error: StackrigError | None = None
        self.attached_from: str | None = None
        self.start_ms: float | None = None
        self.marks = LogMarks()
        self.role = _xdist_role(config)
        self.resets: Resets | None = None
        self.shared: RunRecord | None = None  # controller: the servers every worker slices
        self._warnings: list[str] = []  # the run's, kept past its end for the terminal summary
        self.coverage: list[Any] = []  # ServiceCoverage per measured service, after the session
        self._coverage: Any = None
        if self.role != "worker" and any(s.measures_coverage() for s in stack.services.values()):
            from ..coverage import CoverageSession

            if CoverageSession.current() is None:  # workers and the runs started here inherit it
                self._coverage = CoverageSession.start(stack.root)

    # -- attach or start ----------------------------------------------------
    def _attach(self) -> RunRecord | None:
        state = os.environ.get(STATE_ENV)
        if state:
            try:
                record = RunRecord.load(Path(state))
            except (OSError, ValueError, TypeError, KeyError):
                record = None
            if record is not None and record.digest == self.stack.digest and record.alive():
                self.attached_from = f"{STATE_ENV}={state}"
                return record
        record = read_current(self.stack.root, self.stack.digest)
        if record is not None:
            self.attached_from = f"stackrig up (pid {record.owner_pid})"
        return record

    def get_rig(self) -> Rig:
        if self.rig is not None:
            return self.rig
        if self.error is not None:
            raise self.error
        t0 = time.monotonic()
        try:
            if self.role == "worker":
                record = self._worker_slice()
            else:
                attached = self._attach()
                if attached is None:
                    self.runner = StackRunner(self.stack)
                    serve_resets(self.runner)  # a Node test run beside pytest may reset through it
                    attached = self.runner.up()
                record = attached
            self.start_ms = (time.monotonic() - t0) * 1000
            rig = Rig(record)
            self.resets = Resets(self.stack, rig)
        except StackrigError as exc:
            self.error = exc
            raise
        self.rig = rig
        return rig

    def first_test(self, test_id: str) -> None:
        """The `rig` fixture ran inside the first test that uses it: mark logs, run `before` steps."""
        assert self.rig is not None
        self.marks.mark(self.rig)
        if self.resets is not None:
            self.resets.before(test_id)

    # -- pytest-xdist -------------------------------------------------------------
    def _worker_slice(self) -> RunRecord:
        """This worker's run: slices of the controller's servers, and its own other services."""
        workerinput: dict[str, Any] = self.config.workerinput  # type: ignore[attr-defined]
        state = workerinput.get("stackrig_state")
        if not state:
            error = workerinput.get("stackrig_error") or "the xdist controller started no stack"
            raise StackrigError(error)
        shared = RunRecord.load(Path(state))
        worker_id = str(workerinput.get("workerid", "gw0"))
        self.attached_from = f"the xdist controller's servers (slice {worker_id})"
        self.runner = StackRunner(self.stack, external=make_slices(shared, worker_id))
        return self.runner.up()

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """xdist controller: start the shared servers once, before any worker starts."""
        if self.role != "controller":
            return
        try:
            servers = shared_services({n: s.kind for n, s in self.stack.services.items()})
            self.shared = self._attach()
            if self.shared is None:
                self.runner = StackRunner(self.stack, only=servers, faults=False)  # workers proxy their slices
                self.shared = self.runner.up()
        except StackrigError as exc:
            self.error = exc

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        if self.shared is not None:
            node.workerinput["stackrig_state"] = self.shared.state_path
        elif self.error is not None:
            node.workerinput["stackrig_error"] = str(self.error)

    def stop(self) -> None:
        if self.resets is not None:
            self.resets.close()
            self.resets = None
        if self.rig is not None:
            self.rig.close()
        if self.runner is not None:
            try:
                self.runner.down()
            finally:
                if self.runner.ctx is not None:
                    self._warnings = list(self.runner.ctx.warnings)
                self.runner = None

    def unmatched_stub_requests(self) -> str:
        """Requests the test's stub services received that matched no mapping ('' when none)."""
        assert self.rig is not None
        lines: list[str] = []
        for name in self.rig.services:
            try:
                if "stub" not in self.rig.kind_of(name).clients or not self.rig[name].running:
                    continue
                lines += [f"{name} {r.method} {r.url}" for r in self.rig.stub(name).unmatched()]
            except StackrigError as exc:
                lines.append(f"{name}: could not ask the stub server: {exc.message}")
        return "\n".join(lines)

    def finish_coverage(self) -> None:
        session, self._coverage = self._coverage, None
        if session is None:
            return
        extra: list[Path] = []
        cov = self.config.pluginmanager.getplugin("_cov")  # pytest-cov: the test process's own data
        controller = getattr(cov, "cov_controller", None)
        if controller is not None and getattr(controller, "cov", None) is not None:
            extra.append(Path(controller.cov.config.data_file).resolve())
        try:
            self.coverage = session.finish(extra)
        except StackrigError as exc:
            self._warnings.append(f"coverage: {exc}")

    # -- hooks ----------------------------------------------------------------
    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.stop()
        self.finish_coverage()
        threshold = self.config.getoption("stackrig_cov_fail_under")
        low = [c for c in self.coverage if threshold is not None and (c.percent or 0.0) < threshold]
        if low and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_unconfigure(self) -> None:
        self.stop()

    def pytest_report_header(self) -> str:
        mode = " — servers shared by the xdist workers, each with its own slice" if self.role == "controller" else ""
        return f"stackrig: {self.stack.path} ({', '.join(self.stack.services)}){mode}"

    def warnings(self) -> list[str]:
        found: list[str] = list(self._warnings)
        if self.runner is not None and self.runner.ctx is not None:
            found = list(self.runner.ctx.warnings)
        elif not found and self.rig is not None:  # attached: the owner's record says
            try:
                found = RunRecord.load(self.rig.record.state_path).warnings
            except (OSError, ValueError, TypeError, KeyError):
                found = list(self.rig.record.warnings)
        if self.rig is not None:
            found += self.rig.problems
        return found

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.coverage:
            threshold = self.config.getoption("stackrig_cov_fail_under")
            terminalreporter.section("stackrig coverage of the services under test")
            for c in self.coverage:
                terminalreporter.write_line(c.line())
            low = [c.service for c in self.coverage if threshold is not None and (c.percent or 0.0) < threshold]
            if low:
                terminalreporter.write_line(f"FAIL: coverage of {', '.join(low)} is below {threshold:g}% "
                                            "(--stackrig-cov-fail-under)", red=True)
        problems = self.warnings()
        if problems:
            terminalreporter.section("stackrig warnings", yellow=True)
            for line in problems:
                terminalreporter.write_line(line)
        if self.rig is None or self.start_ms is None:
            return
        how = f"attached to {self.attached_from}" if self.attached_from else "started"
        terminalreporter.write_line(f"stackrig: stack {self.rig.run_id} {how} in {self.start_ms:.0f} ms")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, None, None]:
        if self.rig is not None:
            self.marks.mark(self.rig)
        if self.resets is not None:
            self.resets.before(item.nodeid)  # errors the test when the last reset failed
        yield

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, None, None]:
        try:
            return (yield)
        finally:
            if self.resets is not None:
                self.resets.after(item.nodeid)  # after every fixture's teardown; each step on its own

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[Any, Any, None]:
        outcome = yield
        report = outcome.get_result()
        if report.failed and self.rig is not None and call.when in ("setup", "call"):
            report.sections.append(("stackrig: service logs during this test", self.marks.since_mark(self.rig)))
            faults = active_faults(self.rig)
            if faults:
                report.sections.append(("stackrig: faults active when the test failed", faults))
            unmatched = self.unmatched_stub_requests()
            if unmatched:
                report.sections.append(("stackrig: stub requests that matched nothing", unmatched))
            if self.rig.taps:
                report.sections.append(("stackrig: events the test's taps saw",
                                        "\n".join(tap.describe() for tap in self.rig.taps)))
        if report.failed and call.when == "call" and self.config.pluginmanager.hasplugin("stackrig-browser"):
            from ._browser import artifacts_section

            where = artifacts_section(item)
            if where:
                report.sections.append(("stackrig: browser trace and screenshot", where))
