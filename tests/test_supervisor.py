"""Processes that misbehave, readiness failures, teardown, and nothing outliving its run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import alive, leftovers, marked_pids, tree_of, wait_until

from stackrig import PortInUse, ReadinessTimeout, ServiceExited, load_stack
from stackrig.run import StackRunner
from stackrig.supervisor import allocate_port


def runner_for(path: Path) -> StackRunner:
    return StackRunner(load_stack(path))


def test_crash_at_start_reports_exit_code_and_log_tail(stackfile: Callable[[str], Path]) -> None:
    runner = runner_for(stackfile("""
        [services.app]
        kind = "process"
        command = ["@PY@", "@PROGRAMS@/crash_at_start.py"]
    """))
    with pytest.raises(ServiceExited) as info:
        runner.up()
    err = info.value
    assert err.returncode == 3
    text = str(err)
    assert "service 'app' exited with code 3 while starting" in text
    assert "fatal: could not read config file app.ini" in text  # the log tail
    assert marked_pids(runner.run_id) == []


def test_never_ready_times_out_with_probe_and_tail(stackfile: Callable[[str], Path]) -> None:
    runner = runner_for(stackfile("""
        [services.app]
        kind = "process"
        command = ["@PY@", "@PROGRAMS@/never_ready.py"]
        start_timeout = 1.5
    """))
    with pytest.raises(ReadinessTimeout) as info:
        runner.up()
    text = str(info.value)
    assert "service 'app' was not ready after 1.5 s: waited for a TCP connection on 127.0.0.1:" in text
    assert "starting, but never listening" in text
    assert "start_timeout" in text  # the fix
    assert isinstance(info.value, TimeoutError)
    assert marked_pids(runner.run_id) == []


def test_http_probe_waits_for_success(stackfile: Callable[[str], Path]) -> None:
    runner = runner_for(stackfile("""
        [services.app]
        kind = "process"
        command = ["@PY@", "@PROGRAMS@/serve_http.py"]
        env = { READY_AFTER = "0.3" }
        ready = { http = "/health" }
    """))
    with runner as record:
        import httpx

        assert httpx.get(record.services[0].url + "/health").status_code == 200
    assert marked_pids(runner.run_id) == []


def test_log_and_command_probes(stackfile: Callable[[str], Path]) -> None:
    runner = runner_for(stackfile("""
        [services.a]
        kind = "process"
        command = ["@PY@", "@PROGRAMS@/serve_http.py"]
        ready = { log = "^serving$" }

        [services.b]
        kind = "process"
        port = false
        command = "sleep 60"
        depends_on = ["a"]
        ready = { command = "test -n \\"$A_URL\\"" }

        [services.a.export]
        A_URL = "${url}"
    """))
    with runner as record:
        assert [s.name for s in record.services] == ["a", "b"]
        assert record.env["A_URL"].startswith("http://127.0.0.1:")


def test_failing_command_probe_times_out(stackfile: Callable[[str], Path]) -> None:
    runner = runner_for(stackfile("""
        [services.b]
        kind = "process"
        port = false
        command = "sleep 60"
        ready = { command = "false" }
        start_timeout = 0.5
    """))
    with pytest.raises(ReadinessTimeout, match="waited for `false` to exit 0"):
        runner.up()


def test_sigterm_ignorer_is_killed_at_the_deadline(stackfile: Callable[[str], Path]) -> None:
    runner = runner_for(stackfile("""
        [services.stubborn]
        kind = "process"
        command = ["@PY@", "@PROGRAMS@/ignores_sigterm.py"]
        stop_timeout = 0.5
    """))
    record = runner.up()
    pid = record.services[0].pid
    assert pid and alive(pid)
    runner.down()
    assert not alive(pid)
    assert marked_pids(runner.run_id) == []


def test_double_forked_daemon_is_swept(stackfile: Callable[[str], Path], tmp_path: Path) -> None:
    pidfile = tmp_path / "daemon.pid"
    runner = runner_for(stackfile(f"""
        [services.forker]
        kind = "process"
        command = ["@PY@", "@PROGRAMS@/double_fork.py", "{pidfile}"]
    """))
    runner.up()
    assert wait_until(pidfile.exists)
    daemon = int(pidfile.read_text())
    assert alive(daemon)
    assert os.getpgid(daemon) != runner.record.services[0].pid  # it left the group
    runner.down()
    assert wait_until(lambda: not alive(daemon), 5)


def test_dependents_stop_before_dependencies(stackfile: Callable[[str], Path]) -> None:
    events: list[tuple[str, str]] = []
    stack = load_stack(stackfile("""
        [services.db]
        kind = "process"
        command = ["@PY@", "@PROGRAMS@/serve_http.py"]
        [services.api]
        kind = "process"
        command = ["@PY@", "@PROGRAMS@/serve_http.py"]
        depends_on = ["db"]
    """))
    runner = StackRunner(stack, on_event=lambda e: events.append((e.service, e.state)))
    runner.up()
    assert events.index(("db", "ready")) < events.index(("api", "starting"))
    runner.down()
    assert events.index(("api", "stopped")) < events.index(("db", "stopping"))


def test_independent_services_start_in_parallel(stackfile: Callable[[str], Path]) -> None:
    events: list[tuple[str, str]] = []
    stack = load_stack(stackfile("""
        [services.a]
        kind = "process"
        command = ["@PY@", "@PROGRAMS@/serve_http.py"]
        env = { READY_AFTER = "0.5" }
        ready = { http = "/health" }
        [services.b]
        kind = "process"
        command = ["@PY@", "@PROGRAMS@/serve_http.py"]
        env = { READY_AFTER = "0.5" }
        ready = { http = "/health" }
    """))
    with StackRunner(stack, on_event=lambda e: events.append((e.service, e.state))):
        pass
    # both started before either was ready: they did not wait for each other
    first_ready = min(events.index(("a", "ready")), events.index(("b", "ready")))
    assert events.index(("a", "starting")) < first_ready
    assert events.index(("b", "starting")) < first_ready


def test_failure_of_one_service_stops_the_others(stackfile: Callable[[str], Path]) -> None:
    runner = runner_for(stackfile("""
        [services.good]
        kind = "process"
        command = ["@PY@", "@PROGRAMS@/serve_http.py"]
        [services.bad]
        kind = "process"
        command = ["@PY@", "@PROGRAMS@/crash_at_start.py"]
        depends_on = ["good"]
    """))
    with pytest.raises(ServiceExited, match="service 'bad'"):
        runner.up()
    assert marked_pids(runner.run_id) == []


def test_fixed_port_in_use(stackfile: Callable[[str], Path]) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        runner = runner_for(stackfile(f"""
            [services.app]
            kind = "process"
            port = {port}
            command = ["@PY@", "@PROGRAMS@/serve_http.py"]
        """))
        with pytest.raises(PortInUse) as info:
            runner.up()
    assert f"service 'app': port {port} on 127.0.0.1 is already in use" in str(info.value)
    assert "remove the fixed `port`" in str(info.value)


def test_allocated_ports_are_unique_across_processes() -> None:
    """Leases held by one process are never handed to another process."""
    code = "from stackrig.supervisor import allocate_port\nimport sys\n" \
           "ls=[allocate_port() for _ in range(30)]\nprint(' '.join(str(l.port) for l in ls), flush=True)\n" \
           "sys.stdin.read()"
    procs = [subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
             for _ in range(4)]
    ports: list[int] = []
    try:
        for p in procs:
            assert p.stdout is not None
            ports += [int(x) for x in p.stdout.readline().split()]
        mine = [allocate_port() for _ in range(30)]
        ports += [lease.port for lease in mine]
    finally:
        for p in procs:
            p.communicate("")
    assert len(ports) == 150
    assert len(set(ports)) == len(ports)


SCRIPT = """
import sys, time, json
from stackrig import load_stack
from stackrig.run import StackRunner
r = StackRunner(load_stack(sys.argv[1]))
rec = r.up()
print(json.dumps({"run_id": r.run_id, "pids": [p for s in rec.services for p in s.pids], "data": rec.data_dir}),
      flush=True)
time.sleep(600)
"""


def test_sigkill_of_the_runner_leaves_no_process(stackfile: Callable[[str], Path], tmp_path: Path) -> None:
    pidfile = tmp_path / "daemon.pid"
    path = stackfile(f"""
        [services.db]
        kind = "postgres"
        [services.web]
        kind = "process"
        command = ["@PY@", "@PROGRAMS@/ignores_sigterm.py"]
        [services.forker]
        kind = "process"
        command = ["@PY@", "@PROGRAMS@/double_fork.py", "{pidfile}"]
    """)
    runner = subprocess.Popen([sys.executable, "-c", SCRIPT, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert runner.stdout is not None
        info = json.loads(runner.stdout.readline())
        assert wait_until(pidfile.exists)
        pids = info["pids"] + [int(pidfile.read_text())]
        assert all(alive(p) for p in pids)
        tree = tree_of(pids)
        assert len(tree) >= 6  # postgres workers run in sessions of their own
    finally:
        runner.send_signal(signal.SIGKILL)  # also when an assert above failed: its watchdog cleans up
        runner.wait()
    assert wait_until(lambda: leftovers(info["run_id"], info["pids"], tree) == [], 30)
    assert wait_until(lambda: not Path(info["data"]).exists(), 10)  # the watchdog removed the run data


def test_teardown_leaves_no_process(stackfile: Callable[[str], Path]) -> None:
    runner = runner_for(stackfile("""
        [services.db]
        kind = "postgres"
        [services.cache]
        kind = "redis"
        [services.api]
        kind = "process"
        command = ["@PY@", "@PROGRAMS@/serve_http.py"]
        depends_on = ["db", "cache"]
        replicas = 2
    """))
    record = runner.up()
    api = record.service("api")
    assert api is not None and len(api.pids) == 2 and len(set(api.ports)) == 2
    pgids = [p for s in record.services for p in s.pids]
    tree = tree_of(pgids)
    assert len(tree) >= 7  # postmaster, its workers (each in its own session), redis, 2 replicas
    runner.down()
    assert leftovers(runner.run_id, pgids, tree) == []
    assert not Path(runner.ctx.data_dir).exists()  # run data removed


def test_a_malformed_stub_mapping_names_the_file_and_json_path(stackfile: Callable[[str], Path],
                                                               tmp_path: Path) -> None:
    (tmp_path / "stubs" / "mappings").mkdir(parents=True)
    (tmp_path / "stubs" / "mappings" / "charge.json").write_text(
        '{"request": {"method": "POST", "url": "/charges", "bodyPatterns": [{"equalsTo": "x"}]},'
        ' "response": {"status": 201}}')
    runner = runner_for(stackfile('[services.payments]\nkind = "http-stub"\nmappings = "stubs"\n'))
    with pytest.raises(ServiceExited) as info:
        runner.up()
    text = str(info.value)
    assert "service 'payments' exited with code 1 while starting" in text
    assert "charge.json: $.request.bodyPatterns[0]" in text
    assert "equalsTo" in text and "did you mean 'equalTo'" in text
