"""The pytest plugin: a `rig` fixture over the stack in the rootdir.

With a stack file in the rootdir (or ``--stackrig-file``), the first test that
asks for ``rig`` brings the stack up once for the session — or attaches, in
milliseconds, to one already running for the same stack file (``stackrig up
-d`` in another terminal, or ``stackrig run -- pytest``).  A failing test's
report gets a section with what each service logged during the test.
``--no-stackrig`` turns the plugin off.
"""

from __future__ import annotations

import os
import time
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from ._record import RunRecord
from ._rig import Rig
from .errors import StackrigError

__all__ = ["StackrigSession", "rig"]

STATE_ENV = "STACKRIG_STATE"
_LOG_LINES = 30


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("stackrig", "integration-test stacks (stackrig)")
    group.addoption("--stackrig-file", dest="stackrig_file", default=None,
                    help="stack file to use (default: stackrig.toml or pyproject.toml in the rootdir)")
    group.addoption("--no-stackrig", dest="stackrig_disabled", action="store_true", default=False,
                    help="disable the stackrig plugin")
    parser.addini("stackrig_file", "stack file to use (relative to the rootdir)", default="")


def _stack_file(config: pytest.Config) -> Path | None:
    option = config.getoption("stackrig_file")
    if option:
        return Path(option).resolve()
    ini = config.getini("stackrig_file")
    root = Path(config.rootpath)
    if ini:
        return (root / str(ini)).resolve()
    if (root / "stackrig.toml").is_file():
        return root / "stackrig.toml"
    pyproject = root / "pyproject.toml"
    if pyproject.is_file() and "[tool.stackrig" in pyproject.read_text(errors="replace"):
        return pyproject
    return None


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("stackrig_disabled"):
        return
    path = _stack_file(config)
    if path is None:
        return
    from .config import load_stack

    try:
        stack = load_stack(path)
    except StackrigError as exc:
        raise pytest.UsageError(f"stackrig: {exc}") from None
    config.pluginmanager.register(StackrigSession(config, stack), "stackrig-session")


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

    def __init__(self, config: pytest.Config, stack: Any) -> None:
        self.config = config
        self.stack = stack
        self.runner: Any = None
        self.rig: Rig | None = None
        self.error: StackrigError | None = None
        self.attached_from: str | None = None
        self.start_ms: float | None = None
        self._offsets: dict[str, int] = {}
        self.role = _xdist_role(config)
        self.isolation: Any = None  # _isolate.Isolation once the rig is up
        self.shared: RunRecord | None = None  # controller: the servers every worker slices

    # -- attach or start ----------------------------------------------------
    def _attach(self) -> RunRecord | None:
        from ._session import read_current

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
        from ._runner import StackRunner

        record: RunRecord | None
        try:
            if self.role == "worker":
                record = self._worker_slice()
            else:
                record = self._attach()
                if record is None:
                    self.runner = StackRunner(self.stack)
                    record = self.runner.up()
        except StackrigError as exc:
            self.error = exc
            raise
        assert record is not None
        self.start_ms = (time.monotonic() - t0) * 1000
        rig = Rig(record)
        from ._isolate import Isolation

        try:
            self.isolation = Isolation(self.stack, rig)
        except StackrigError as exc:
            self.error = exc
            raise
        self.rig = rig
        return rig

    # -- pytest-xdist -------------------------------------------------------------
    def _worker_slice(self) -> RunRecord:
        """This worker's run: slices of the controller's servers, and its own other services."""
        from ._runner import StackRunner
        from ._slices import make_slices

        workerinput: dict[str, Any] = self.config.workerinput  # type: ignore[attr-defined]
        state = workerinput.get("stackrig_state")
        if not state:
            error = workerinput.get("stackrig_error") or "the xdist controller started no stack"
            raise StackrigError(error)
        shared = RunRecord.load(Path(state))
        worker_id = str(workerinput.get("workerid", "gw0"))
        self.attached_from = f"the xdist controller's servers (slice {worker_id})"
        slices = make_slices(shared, worker_id)
        self.runner = StackRunner(self.stack, external=slices)
        return self.runner.up()  # type: ignore[no-any-return]

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """xdist controller: start the shared servers once, before any worker starts."""
        if self.role != "controller":
            return
        from ._runner import StackRunner
        from ._slices import SHARED_KINDS

        servers = {n for n, s in self.stack.services.items() if s.kind in SHARED_KINDS}
        try:
            self.shared = self._attach()
            if self.shared is None:
                self.runner = StackRunner(self.stack, only=servers, faults=False)  # workers proxy their slices
                self.shared = self.runner.up()
        except StackrigError as exc:
            self.error = exc

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        if self.shared is not None:
            path = Path(self.shared.logs_dir).parent / "state.json"
            node.workerinput["stackrig_state"] = str(path)
        elif self.error is not None:
            node.workerinput["stackrig_error"] = str(self.error)

    def stop(self) -> None:
        if self.isolation is not None:
            self.isolation.close()
            self.isolation = None
        if self.rig is not None:
            self.rig.close()
        if self.runner is not None:
            self.runner.down()
            self.runner = None

    # -- hooks ----------------------------------------------------------------
    def pytest_sessionfinish(self) -> None:
        self.stop()

    def pytest_unconfigure(self) -> None:
        self.stop()

    def pytest_report_header(self) -> str:
        mode = " — servers shared by the xdist workers, each with its own slice" if self.role == "controller" else ""
        return f"stackrig: {self.stack.path} ({', '.join(self.stack.services)}){mode}"

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.rig is None or self.start_ms is None:
            return
        how = f"attached to {self.attached_from}" if self.attached_from else "started"
        terminalreporter.write_line(f"stackrig: stack {self.rig.run_id} {how} in {self.start_ms:.0f} ms")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, None, None]:
        if self.rig is not None:
            self._mark_offsets()
        if self.isolation is not None:
            self.isolation.before(item.nodeid)  # errors the test when the last reset failed
        yield

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, None, None]:
        try:
            return (yield)
        finally:
            if self.rig is not None:
                self.rig.end_test()
                self.rig.reset_stubs()
                self.rig.reset_mailboxes()
            if self.rig is not None and self.rig.faults is not None:
                self.rig.faults.reset()  # toxics removed, proxies enabled again
            if self.isolation is not None:
                self.isolation.after(item.nodeid)  # after every fixture's teardown

    def _mark_offsets(self) -> None:
        assert self.rig is not None
        for name, svc in self.rig.services.items():
            try:
                self._offsets[name] = svc.log_path.stat().st_size
            except OSError:
                self._offsets[name] = 0

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[Any, Any, None]:
        outcome = yield
        report = outcome.get_result()
        if report.failed and self.rig is not None and call.when in ("setup", "call"):
            report.sections.append(("stackrig: service logs during this test", self.logs_since_start()))
            faults = self.active_faults()
            if faults:
                report.sections.append(("stackrig: faults active when the test failed", faults))

    def active_faults(self) -> str:
        """The proxies that were down or had toxics, as text ('' when none or unknown)."""
        assert self.rig is not None
        client = self.rig.faults
        if client is None:
            return ""
        from .faults import describe_proxies

        try:
            proxies = client.proxies()
        except StackrigError as exc:
            return f"(could not ask the fault proxy: {exc})"
        broken = {n: p for n, p in proxies.items() if not p.get("enabled", True) or p.get("toxics")}
        return describe_proxies(broken) if broken else ""

    def logs_since_start(self) -> str:
        assert self.rig is not None
        parts: list[str] = []
        for name, svc in self.rig.services.items():
            start = self._offsets.get(name)
            lines: list[str] = []
            try:
                with open(svc.log_path, "rb") as f:
                    if start is not None:
                        f.seek(start)
                    else:
                        f.seek(max(0, svc.log_path.stat().st_size - 8192))
                    lines = f.read().decode(errors="replace").splitlines()
            except OSError:
                pass
            shown = lines[-_LOG_LINES:]
            header = f"--- {name} ({svc.kind}, {svc.log_path})"
            if not shown:
                parts.append(f"{header}: nothing logged during the test")
                continue
            more = f" (last {len(shown)} of {len(lines)} lines)" if len(lines) > len(shown) else ""
            parts.append(header + more + "\n" + "\n".join(shown))
        return "\n".join(parts)


def _session(request: pytest.FixtureRequest) -> StackrigSession:
    plugin = request.config.pluginmanager.get_plugin("stackrig-session")
    if plugin is None:
        raise pytest.UsageError(
            "the `rig` fixture needs a stack file: put stackrig.toml in the rootdir "
            f"({request.config.rootpath}) or pass --stackrig-file PATH (and do not pass --no-stackrig)")
    assert isinstance(plugin, StackrigSession)
    return plugin


@pytest.fixture(scope="session")
def rig(request: pytest.FixtureRequest) -> Iterator[Rig]:
    """The running stack: ``rig["db"].url``, ``rig.env``, ``rig.http("api")``, ``rig.sql("db")``,
    ``rig.redis("cache")``."""
    session = _session(request)
    try:
        the_rig = session.get_rig()
    except StackrigError as exc:
        pytest.fail(f"stackrig could not start the stack:\n{exc}", pytrace=False)
    session._mark_offsets()
    if session.isolation is not None:
        session.isolation.before(request.node.nodeid)  # the first test: clones, dirty checks
    yield the_rig


@pytest.fixture
def rig_transaction(rig: Rig) -> Iterator[Any]:
    """A psycopg connection in a transaction rolled back after the test (the only postgres service)."""
    with rig.transaction() as conn:
        yield conn


@pytest.fixture
def rig_session(rig: Rig) -> Iterator[Any]:
    """A SQLAlchemy Session in a transaction rolled back after the test; its commits are savepoints."""
    with rig.session() as session:
        yield session
