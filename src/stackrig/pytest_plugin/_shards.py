"""``--stackrig-shard K/N``: run the K-th of N shards of the suite, balanced by recorded durations.

After collection (and after ``-k``/``-m``, which run first) the shard plan of :mod:`stackrig.ci`
keeps this shard's tests and reports the others as deselected.  The plan depends only on the test
ids and the durations file, so N machines with the same checkout and arguments run every test
exactly once between them; each machine runs its own stack, as any pytest session does.  Under
pytest-xdist (``-n``) every worker collects and deselects the same way, and the controller —
which sees every test's reports — records the durations.  At the end of the session this run's
durations (setup + call + teardown) are merged into ``.stackrig/durations.json`` in the rootdir
(``--stackrig-durations PATH`` for another file).

Only the options are added when the plugin loads; :mod:`stackrig.ci` is imported when a shard is asked for.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ..ci import ShardPlan

__all__ = ["addoption", "configure", "ShardRunner"]


def addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("stackrig", "integration-test stacks (stackrig)")
    group.addoption("--stackrig-shard", dest="stackrig_shard", metavar="K/N", default=None,
                    help="run only the K-th of N shards of the suite (1-based), balanced by recorded durations")
    group.addoption("--stackrig-durations", dest="stackrig_durations", metavar="PATH", default=None,
                    help="the durations file shards are balanced by and this run's durations are merged into "
                         "(default: .stackrig/durations.json in the rootdir)")


def configure(config: pytest.Config) -> None:
    """Register the shard runner when ``--stackrig-shard`` is given (a usage error when it is not K/N)."""
    value = config.getoption("stackrig_shard", None)
    if value is None:
        return
    from ..ci import DURATIONS_FILE, ShardError, parse_shard

    try:
        index, total = parse_shard(value)
    except ShardError as exc:
        raise pytest.UsageError(f"--stackrig-shard: {exc}") from None
    given = config.getoption("stackrig_durations", None)
    path = Path(given).resolve() if given else Path(config.rootpath) / DURATIONS_FILE
    config.pluginmanager.register(ShardRunner(config, index, total, path), "stackrig-shard")


class ShardRunner:
    """Deselects the other shards' tests; records this run's durations (not on xdist workers)."""

    def __init__(self, config: pytest.Config, index: int, total: int, path: Path) -> None:
        self.config = config
        self.index = index
        self.total = total
        self.path = path
        self.worker = hasattr(config, "workerinput")
        self.plan: ShardPlan | None = None
        self.kept = 0
        self.seconds: dict[str, float] = {}
        self.note = ""

    @pytest.hookimpl(trylast=True)  # after -k, -m and --deselect: balance what will run
    def pytest_collection_modifyitems(self, session: pytest.Session, config: pytest.Config,
                                      items: list[pytest.Item]) -> None:
        from ..ci import load_durations, plan_shards

        try:
            durations = load_durations(self.path)
        except ValueError as exc:
            # every machine reads the same file, so every machine falls back the same way
            self.note = f"{exc}; shards balanced by test count only"
            durations = {}
        self.plan = plan_shards((item.nodeid for item in items), durations, self.total)
        mine = set(self.plan.of(self.index))
        kept = [item for item in items if item.nodeid in mine]
        other = [item for item in items if item.nodeid not in mine]
        if other:
            config.hook.pytest_deselected(items=other)
        items[:] = kept
        self.kept = len(kept)

    def pytest_report_collectionfinish(self, config: pytest.Config) -> str | None:
        if self.plan is None:
            return None
        plan = self.plan
        total = sum(len(s) for s in plan.shards)
        guessed = f", {len(plan.estimated)} without a recorded duration" if plan.estimated else ""
        return (f"stackrig: shard {self.index}/{self.total}: {len(plan.of(self.index))} of {total} tests, "
                f"~{plan.loads[self.index - 1]:.1f} s of ~{sum(plan.loads):.1f} s{guessed}")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not self.worker:
            self.seconds[report.nodeid] = self.seconds.get(report.nodeid, 0.0) + float(report.duration or 0.0)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.worker or not self.seconds or self.config.getoption("collectonly", False):
            return
        from ..ci import update_durations

        try:
            update_durations(self.path, self.seconds)
        except OSError as exc:
            self.note = f"could not record the durations in {self.path}: {exc}"
            return
        rel = os.path.relpath(self.path, self.config.rootpath)
        self.note = self.note or f"durations of {len(self.seconds)} tests merged into {rel}"

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.note:
            terminalreporter.write_line(f"stackrig: {self.note}")
