"""The pytest plugin, through pytester."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from helpers import PROGRAMS, leftovers, run_cli, tree_of

STACK = f"""
[services.db]
kind = "postgres"
[services.cache]
kind = "redis"
[services.api]
kind = "process"
command = ["{sys.executable}", "{PROGRAMS}/serve_http.py"]
depends_on = ["db", "cache"]
ready = {{ http = "/health" }}
"""

TESTS = """
import json

def test_clients(rig):
    assert rig.http("api").get("/health").status_code == 200
    assert rig.sql("db").execute("select 1").fetchone() == (1,)
    assert rig.redis("cache").ping()
    assert rig["db"].url.startswith("postgresql://")
    assert rig["api"].port == int(rig["api"].url.rsplit(":", 1)[1])
    open("record.json", "w").write(json.dumps({"run_id": rig.run_id,
        "pids": [s.pid for s in rig.services.values()]}))

def test_failing(rig):
    rig.http("api").get("/during-the-failing-test")
    assert False, "boom"
"""


def test_rig_fixture_and_failure_report(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", stackrig=STACK)
    pytester.makepyfile(TESTS)
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*stackrig: service logs during this test*",
        "--- db (postgres, *): nothing logged during the test",
        "--- api (process, *api.log)",
        "request /during-the-failing-test",
        "stackrig: stack * started in * ms",
    ])
    record = json.loads((pytester.path / "record.json").read_text())
    assert leftovers(record["run_id"], record["pids"]) == []  # stopped at session end


def test_attaches_to_a_running_stack(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", stackrig=STACK)
    pytester.makepyfile(TESTS.split("def test_failing")[0])
    up = run_cli("up", "-d", cwd=pytester.path)
    assert up.returncode == 0, up.stderr
    try:
        pointer = json.loads((pytester.path / ".stackrig" / "current.json").read_text())
        current = json.loads(Path(pointer["state"]).read_text())
        result = pytester.runpytest_subprocess("-p", "no:randomly")
        result.assert_outcomes(passed=1)
        result.stdout.fnmatch_lines(["stackrig: stack * attached to stackrig up (pid *) in * ms"])
        record = json.loads((pytester.path / "record.json").read_text())
        assert record["run_id"] == current["run_id"]
        tree = tree_of([p for p in record["pids"]])
        assert all(p in tree for p in record["pids"])  # still running after the session
    finally:
        run_cli("down", cwd=pytester.path)
    assert leftovers(current["run_id"], [], tree) == []


def test_stackrig_run_then_pytest_attaches(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", stackrig=STACK)
    pytester.makepyfile(TESTS.split("def test_failing")[0])
    done = run_cli("run", "--", sys.executable, "-m", "pytest", "-p", "no:randomly", "-q", cwd=pytester.path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "attached to STACKRIG_STATE=" in done.stdout


def test_changed_stack_file_is_not_attached(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", stackrig='[services.cache]\nkind = "redis"\n')
    pytester.makepyfile("def test_x(rig):\n    assert rig['cache'].port\n")
    up = run_cli("up", "-d", cwd=pytester.path)
    assert up.returncode == 0, up.stderr
    try:
        (pytester.path / "stackrig.toml").write_text('[services.cache]\nkind = "redis"\nconfig = { databases = 4 }\n')
        result = pytester.runpytest_subprocess("-p", "no:randomly")
        result.assert_outcomes(passed=1)
        result.stdout.fnmatch_lines(["stackrig: stack * started in * ms"])
    finally:
        run_cli("down", cwd=pytester.path)


def test_config_error_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", stackrig='[services.db]\nkind = "postgress"\n')
    pytester.makepyfile("def test_x(rig):\n    pass\n")
    result = pytester.runpytest("-p", "no:randomly")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert ("stackrig.toml:2: [services.db.kind] unknown kind 'postgress' (did you mean 'postgres'?)"
            in result.stderr.str())


def test_start_failure_errors_the_tests_with_the_reason(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", stackrig=f'[services.app]\nkind = "process"\n'
                                        f'command = ["{sys.executable}", "{PROGRAMS}/crash_at_start.py"]\n')
    pytester.makepyfile("def test_a(rig):\n    pass\n\ndef test_b(rig):\n    pass\n")
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*stackrig could not start the stack:*",
                                 "*service 'app' exited with code 3 while starting*",
                                 "*fatal: could not read config file app.ini*"])


def test_no_stackrig_disables_the_plugin(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", stackrig='[services.db]\nkind = "postgress"\n')  # would be an error
    pytester.makepyfile("def test_x(rig):\n    pass\n\ndef test_y():\n    pass\n")
    result = pytester.runpytest("-p", "no:randomly", "--no-stackrig")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*the `rig` fixture needs a stack file*"])


def test_stackrig_file_option(pytester: pytest.Pytester) -> None:
    sub = pytester.mkdir("deploy")
    (sub / "stack.toml").write_text('[services.cache]\nkind = "redis"\n')
    pytester.makepyfile("def test_x(rig):\n    assert rig.redis('cache').ping()\n")
    result = pytester.runpytest("-p", "no:randomly", "--stackrig-file", str(Path(sub) / "stack.toml"))
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["stackrig: *stack.toml (cache)"])


def test_tests_without_rig_do_not_start_the_stack(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", stackrig='[services.cache]\nkind = "redis"\n')
    pytester.makepyfile("def test_x():\n    pass\n")
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=1)
    assert "stackrig: stack" not in result.stdout.str()


def test_services_can_be_stopped_and_started_from_a_test(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", stackrig=STACK)
    pytester.makepyfile("""
        import httpx, psycopg, pytest

        def test_stop_start(rig):
            db = rig["db"]
            rig.sql("db").execute("CREATE TABLE kept (x int); INSERT INTO kept VALUES (7)")
            old = db.pid
            db.stop()
            assert not db.running and db.ports == [db.port]
            with pytest.raises(psycopg.OperationalError):
                psycopg.connect(db.url, connect_timeout=2)
            assert rig.http("api").get("/health").status_code == 200  # dependents keep running
            db.start()
            assert db.running and db.pid != old
            with psycopg.connect(db.url) as conn:  # same port, same data
                assert conn.execute("SELECT x FROM kept").fetchone() == (7,)
            api = rig["api"]
            before = api.pid
            api.restart()
            assert api.pid != before
            assert httpx.get(api.url + "/health").status_code == 200
    """)
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=1)


def test_control_of_a_stack_owned_by_stackrig_up(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", stackrig='[services.cache]\nkind = "redis"\n')
    pytester.makepyfile("""
        import redis, pytest

        def test_x(rig):
            rig.redis("cache").set("k", "v")
            rig["cache"].restart()
            client = redis.Redis.from_url(rig["cache"].url)
            assert client.ping()
            assert client.get("k") is None  # no persistence: a restart starts empty
    """)
    up = run_cli("up", "-d", cwd=pytester.path)
    assert up.returncode == 0, up.stderr
    try:
        result = pytester.runpytest_subprocess("-p", "no:randomly")
        result.assert_outcomes(passed=1)
        result.stdout.fnmatch_lines(["stackrig: stack * attached to stackrig up*"])
    finally:
        run_cli("down", cwd=pytester.path)


def test_xdist_workers_share_servers_with_their_own_slices(pytester: pytest.Pytester) -> None:
    """-n 2: one postgres and one redis for the run; each worker its own database, Redis index and app."""
    pytester.makefile(".toml", stackrig=STACK)
    pytester.makepyfile("""
        import json, os, pytest

        @pytest.mark.parametrize("i", range(6))
        def test_slice(rig, i):
            worker = os.environ["PYTEST_XDIST_WORKER"]
            db = rig.sql("db").execute("SELECT current_database()").fetchone()[0]
            assert db.endswith("_" + worker)
            index = rig.redis("cache").connection_pool.connection_kwargs["db"]
            env = rig.http("api").get("/env").json()  # the app was wired to the same slice
            assert env.get("STACKRIG_SERVICE") == "api"
            with open(f"seen-{worker}-{i}.json", "w") as f:
                json.dump({"db": db, "redis": index, "db_port": rig["db"].port, "api": rig["api"].url,
                           "pids": [rig["db"].pid, rig["cache"].pid, rig["api"].pid]}, f)
    """)
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-n", "2")
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(["stackrig: * servers shared by the xdist workers*"])
    seen = [json.loads(p.read_text()) for p in pytester.path.glob("seen-*.json")]
    by_worker: dict[str, list[dict[str, object]]] = {}
    for path in pytester.path.glob("seen-*.json"):
        by_worker.setdefault(path.name.split("-")[1], []).append(json.loads(path.read_text()))
    assert len(by_worker) == 2
    assert len({s["db_port"] for s in seen}) == 1  # one server for the run
    assert len({s["db"] for s in seen}) == 2 and len({s["redis"] for s in seen}) == 2
    assert len({s["api"] for s in seen}) == 2  # an app per worker
    pids = sorted({p for s in seen for p in s["pids"]})  # type: ignore[attr-defined]
    from helpers import alive

    assert not any(alive(p) for p in pids)  # servers stopped after the last worker


def test_faults_through_the_proxy_reported_and_cleared(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", stackrig=f"""
[services.db]
kind = "postgres"
faults = true
export = {{ DATABASE_URL = "${{url}}" }}
[services.api]
kind = "process"
command = ["{sys.executable}", "{PROGRAMS}/serve_http.py"]
depends_on = ["db"]
ready = {{ http = "/health" }}
""")
    pytester.makepyfile("""
        import psycopg, pytest, time

        def test_1_app_sees_the_proxy(rig):
            app_env = rig.http("api").get("/env").json()
            assert app_env["DATABASE_URL"] == rig["db"].url == rig.env["DATABASE_URL"]
            assert rig["db"].url != rig["db"].direct_url
            with psycopg.connect(rig["db"].url) as conn:
                assert conn.execute("select 1").fetchone() == (1,)

        def test_2_down_and_latency(rig):
            fault = rig.fault("db")
            fault.down()
            with pytest.raises(psycopg.OperationalError):
                psycopg.connect(rig["db"].url, connect_timeout=3)
            assert rig.sql("db").execute("select 2").fetchone() == (2,)  # the back door bypasses it
            fault.up()
            fault.latency(300)
            t0 = time.monotonic()
            with psycopg.connect(rig["db"].url) as conn:
                conn.execute("select 1")
            assert time.monotonic() - t0 >= 0.3
            assert False, "fail on purpose: the report lists the active toxic"

        def test_3_toxics_were_removed(rig):
            assert rig.fault("db").toxics() == []
            with psycopg.connect(rig["db"].url, connect_timeout=5) as conn:
                assert conn.execute("select 3").fetchone() == (3,)

        def test_4_not_behind_the_proxy(rig):
            with pytest.raises(Exception, match="service 'api' is not behind the fault proxy"):
                rig.fault("api")
    """)
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(["*stackrig: faults active when the test failed*", "proxy 'db' *: up",
                                 "*latency*300*"])
