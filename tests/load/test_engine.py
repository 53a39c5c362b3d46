"""`run_load`, the engine the pytest side calls: in this (pytest's) process, which gevent never patches;
failed thresholds are data, not exceptions; the generator never outlives its caller."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from helpers import alive, wait_until
from loadhelpers import DELAY_MS, LOCUSTFILES

from stackrig.load import (
    LoadError,
    LoadResult,
    LocustfileError,
    ThresholdsFailed,
    ThresholdSyntaxError,
    run_load,
)

pytestmark = pytest.mark.slow


def test_run_load_measures_in_a_child_and_leaves_this_process_unpatched(running_stub, tmp_path: Path) -> None:  # noqa: ANN001
    result = run_load(LOCUSTFILES / "slow_and_fast.py", running_stub.urls["api"], users=3, duration=2,
                      thresholds={"http_req_duration{name:/slow}": [f"min>={DELAY_MS}", "p(99)<10"],
                                  "http_reqs": "count>0"},
                      out=tmp_path / "out")
    assert isinstance(result, LoadResult)
    assert "gevent" not in sys.modules and "locust" not in sys.modules
    assert socket.socket.__module__ == "socket" and threading.Lock.__module__ == "_thread"
    assert [(t.expr, t.ok) for t in result.thresholds] == [
        (f"http_req_duration{{name:/slow}}: min>={DELAY_MS}", True), ("http_req_duration{name:/slow}: p(99)<10", False),
        ("http_reqs: count>0", True)]
    assert not result.ok  # and nothing was raised: the caller decides
    slow = result.distribution({"name": "/slow"})
    assert slow.min >= DELAY_MS and slow.count == result.requests["/slow"].count
    assert result.requests["all"].count == result.requests["/slow"].count + result.requests["/fast"].count
    assert result.to_json()["charts"] == result.charts and len(result.charts) == 2
    with pytest.raises(ThresholdsFailed) as caught:
        result.assert_ok()
    assert isinstance(caught.value, AssertionError)
    assert "1 of 3 thresholds failed" in str(caught.value) and "p(99)<10" in str(caught.value)


def test_exceptions_in_tasks_are_reported_not_counted_as_requests(running_stub) -> None:  # noqa: ANN001
    result = run_load(LOCUSTFILES / "task_raises.py", running_stub.urls["api"], users=2, duration="1500ms")
    assert result.ok and result.charts == [] and result.out is None  # no thresholds, no folder asked for
    assert set(result.requests) == {"/fast", "all"} and result.requests["all"].failures == 0
    [raised] = result.exceptions
    assert raised["count"] > 0 and "ZeroDivisionError" in raised["msg"] and "the task's own bug" in raised["msg"]
    assert "exceptions in tasks" in result.render()


def test_a_bad_threshold_or_locust_file_raises_before_or_instead_of_a_run(tmp_path: Path) -> None:
    with pytest.raises(ThresholdSyntaxError) as bad:
        run_load(LOCUSTFILES / "slow_and_fast.py", "http://127.0.0.1:9", thresholds=["http_reqs: p(95)<1"])
    assert bad.value.position == 11 and isinstance(bad.value, ValueError)
    with pytest.raises(LocustfileError) as missing:
        run_load(tmp_path / "nope.py", "http://127.0.0.1:9")
    assert missing.value.file == str(tmp_path / "nope.py")
    with pytest.raises(LocustfileError) as no_user:
        run_load(LOCUSTFILES / "no_user.py", "http://127.0.0.1:9", duration=1)
    assert "defines no User class" in str(no_user.value) and "no_user.py" in str(no_user.value)


def test_a_target_that_refuses_connections_is_failures_not_an_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens on it once closed
    result = run_load(LOCUSTFILES / "slow_and_fast.py", f"http://127.0.0.1:{port}", users=1, duration=1,
                      thresholds=["http_req_failed: rate<0.5"])
    assert not result.ok and result.thresholds[0].value == 1.0
    assert result.requests["all"].failures == result.requests["all"].count > 0
    assert result.errors and "ConnectionRefusedError" in result.errors[0]["error"]


def _generator_of(pid: int) -> int | None:
    """The `python -m stackrig.load` child of `pid`, if it runs."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                parent = int(f.read().split(")")[-1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if parent == pid and b"stackrig.load" in argv:
            return int(entry)
    return None


@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM", "SIGKILL"])
def test_the_generator_never_outlives_the_cli(running_stub, how: str) -> None:  # noqa: ANN001
    """Ctrl-C or SIGTERM: the CLI kills it and exits 130; SIGKILL: it sees its stdin close and quits."""
    proc = subprocess.Popen([sys.executable, "-m", "stackrig.cli", "load", str(LOCUSTFILES / "slow_and_fast.py"),
                             "-s", "api", "-u", "1", "-t", "60s"], cwd=running_stub.folder, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert wait_until(lambda: _generator_of(proc.pid) is not None, 30)
        child = _generator_of(proc.pid)
        assert child is not None
        time.sleep(0.5)
        proc.send_signal(getattr(signal, how))
        code = proc.wait(30)
        assert wait_until(lambda: not alive(child), 20), f"the generator {child} outlived the CLI ({how})"
        if how != "SIGKILL":
            assert code == 130, proc.stderr.read() if proc.stderr else ""
            assert "interrupted" in (proc.stderr.read() if proc.stderr else "")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_generator_that_hangs_is_killed_at_the_timeout(tmp_path: Path) -> None:
    hang = tmp_path / "hang.py"
    hang.write_text("import time\nfrom locust import User, task\n\nclass U(User):\n    @task\n"
                    "    def t(self):\n        pass\n\ntime.sleep(120)\n")
    started = time.monotonic()
    with pytest.raises(LoadError) as caught:
        run_load(hang, "http://127.0.0.1:9", duration=1, timeout=3)
    assert time.monotonic() - started < 20
    assert "did not finish within 3 s; it was killed" in str(caught.value)


def test_rig_load_runs_against_a_service_and_keeps_the_charts_with_the_run(stub_project: Path) -> None:
    from stackrig import Stack
    from stackrig.rig import Rig

    if not hasattr(Rig, "load"):
        pytest.skip("Rig.load is not in src/stackrig/rig/_rig.py yet (its code is in the load engine's report)")
    with Stack.load(stub_project / "stackrig.toml") as rig:
        result = rig.load("api", LOCUSTFILES / "slow_and_fast.py", users=2, duration=1,
                          thresholds=[f"http_req_duration{{name:/slow}}: min>={DELAY_MS}"])
        logs = Path(rig.record.logs_dir)
    assert result.ok and result.host == rig["api"].url
    assert result.out is not None and Path(result.out).parent == logs.parent / "load"
    assert (Path(result.out) / "result.json").exists()
