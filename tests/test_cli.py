"""The CLI through real subprocesses."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import alive, leftovers, marked_pids, run_cli, tree_of, wait_until

STACK = """
[services.db]
kind = "postgres"
export = { DATABASE_URL = "${url}" }

[services.web]
kind = "process"
command = ["@PY@", "@PROGRAMS@/serve_http.py"]
depends_on = ["db"]
ready = { http = "/health" }
export = { WEB_URL = "${url}" }
"""

CHECK = ("import os, psycopg, urllib.request, json;"
         "print(psycopg.connect(os.environ['DATABASE_URL']).execute('select 40+2').fetchone()[0]);"
         "env=json.load(urllib.request.urlopen(os.environ['WEB_URL']+'/env'));"
         "print(env['DATABASE_URL']==os.environ['DATABASE_URL'])")


def test_run_exports_env_and_returns_the_exit_code(stackfile: Callable[[str], Path]) -> None:
    path = stackfile(STACK)
    done = run_cli("run", "--", sys.executable, "-c", CHECK + ";raise SystemExit(7)", cwd=path.parent)
    assert done.returncode == 7, done.stderr
    assert done.stdout.split() == ["42", "True"]  # the app got the db's export too
    assert "db: ready in" in done.stderr and "web: ready in" in done.stderr


def test_up_detached_status_env_logs_down(stackfile: Callable[[str], Path]) -> None:
    path = stackfile(STACK)
    cwd = path.parent
    up = run_cli("up", "-d", cwd=cwd)
    assert up.returncode == 0, up.stderr
    assert "web" in up.stdout and "http://127.0.0.1:" in up.stdout  # the table
    try:
        status = run_cli("status", "--json", cwd=cwd)
        data = json.loads(status.stdout)
        assert data["running"] is True
        services = {s["name"]: s for s in data["stack"]["services"]}
        assert set(services) == {"db", "web"}
        assert all(alive(s["pids"][0]) for s in services.values())
        env = run_cli("env", cwd=cwd)
        assert f"export DATABASE_URL={services['db']['url']}" in env.stdout
        env_json = json.loads(run_cli("env", "--json", cwd=cwd).stdout)
        assert env_json["WEB_URL"] == services["web"]["url"]
        again = run_cli("up", "-d", cwd=cwd)
        assert again.returncode == 1 and "a stack is already running" in again.stderr
        import urllib.request

        urllib.request.urlopen(services["web"]["url"] + "/hello").read()
        logs = run_cli("logs", "web", cwd=cwd)
        assert "request /hello" in logs.stdout
        tree = tree_of([s["pids"][0] for s in services.values()])
    finally:
        down = run_cli("down", cwd=cwd)
    assert down.returncode == 0, down.stderr
    assert "stopped stack" in down.stderr
    assert leftovers(data["stack"]["run_id"], [], tree) == []
    gone = run_cli("status", cwd=cwd)
    assert gone.returncode == 1 and "no stack is running" in gone.stderr
    assert json.loads(run_cli("status", "--json", cwd=cwd).stdout)["running"] is False


def test_foreground_up_stops_on_sigterm(stackfile: Callable[[str], Path]) -> None:
    path = stackfile(STACK)
    proc = subprocess.Popen([sys.executable, "-m", "stackrig.cli", "up"], cwd=path.parent, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    current = path.parent / ".stackrig" / "current.json"
    try:
        assert wait_until(current.exists, 60)
        record = json.loads(Path(json.loads(current.read_text())["state"]).read_text())
        tree = tree_of([s["pids"][0] for s in record["services"]])
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C (also when an assert above failed)
        proc.wait(60)
    assert leftovers(record["run_id"], [], tree) == []
    assert not current.exists()


def test_config_error_exit_code_and_message(stackfile: Callable[[str], Path]) -> None:
    path = stackfile('[services.db]\nkind = "postgres"\nversoin = "15"\n')
    done = run_cli("up", cwd=path.parent)
    assert done.returncode == 2
    assert f"{path}:3: [services.db.versoin] unknown key 'versoin' (did you mean 'version'?)" in done.stderr
    assert "Traceback" not in done.stderr


def test_no_stack_file(tmp_path: Path) -> None:
    done = run_cli("up", cwd=tmp_path)
    assert done.returncode == 2
    assert "no stackrig.toml" in done.stderr and "stackrig init" in done.stderr


def test_bad_arguments(tmp_path: Path) -> None:
    done = run_cli("upp", cwd=tmp_path)
    assert done.returncode == 2
    assert "No such command 'upp'" in done.stderr and "Did you mean 'up'" in done.stderr
    done = run_cli("status", "--jsn", cwd=tmp_path)
    assert done.returncode == 2 and "No such option '--jsn'. Did you mean '--json'?" in done.stderr


def test_run_with_unknown_command(stackfile: Callable[[str], Path]) -> None:
    path = stackfile('[services.c]\nkind = "redis"\n')
    done = run_cli("run", "--", "no-such-program-xyz", cwd=path.parent)
    assert done.returncode == 1
    assert "command not found: no-such-program-xyz" in done.stderr


def test_service_failure_message_and_exit(stackfile: Callable[[str], Path]) -> None:
    path = stackfile('[services.app]\nkind = "process"\ncommand = ["@PY@", "@PROGRAMS@/crash_at_start.py"]\n')
    done = run_cli("run", "--", "true", cwd=path.parent)
    assert done.returncode == 1
    assert "service 'app' exited with code 3 while starting" in done.stderr
    assert "fatal: could not read config file app.ini" in done.stderr


def test_init_writes_a_valid_starter(tmp_path: Path) -> None:
    done = run_cli("init", cwd=tmp_path)
    assert done.returncode == 0
    from stackrig import load_stack

    assert list(load_stack(tmp_path / "stackrig.toml").services) == ["db", "cache"]
    again = run_cli("init", cwd=tmp_path)
    assert again.returncode == 1 and "already exists" in again.stderr and "--force" in again.stderr


def test_doctor_lists_providers(stackfile: Callable[[str], Path]) -> None:
    path = stackfile('[services.db]\nkind = "postgres"\n[services.c]\nkind = "redis"\n')
    done = run_cli("doctor", cwd=path.parent)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "binaries (first match wins" in done.stdout
    assert "kind postgres" in done.stdout and "runtime node" in done.stdout
    assert "ok    service db (postgres): " in done.stdout and "ok    service c (redis): " in done.stdout


def test_doctor_shows_the_runtimes_a_process_names(stackfile: Callable[[str], Path]) -> None:
    path = stackfile('[services.app]\nkind = "process"\nbuild = "${go} build ."\ncommand = "${node} app.js"\n'
                     '[services.plain]\nkind = "process"\ncommand = "${python} app.py"\n')
    done = run_cli("doctor", cwd=path.parent, env={**os.environ, "STACKRIG_PROVIDERS": "path"})
    assert done.returncode == 1  # only stack-file paths: each runtime named fails with its hint
    assert "service 'app': no go runtime found" in done.stdout and "service 'app': no node runtime found" in done.stdout
    assert "ok    service plain (process): no binary needed" in done.stdout
    found = run_cli("doctor", cwd=path.parent)
    for runtime in ("go", "node"):
        if f"no {runtime} runtime found" not in found.stdout:
            assert f"ok    service app (process): {runtime} " in found.stdout


def test_doctor_fails_on_unsatisfiable_version(stackfile: Callable[[str], Path]) -> None:
    path = stackfile('[services.db]\nkind = "postgres"\nversion = "9.6"\n')
    done = run_cli("doctor", cwd=path.parent)
    assert done.returncode == 1
    assert "no postgres server '9.6' found" in done.stdout


@pytest.mark.slow
def test_concurrent_runs_never_collide(stackfile: Callable[[str], Path]) -> None:
    """Four `stackrig run` of one stack at once: all start, ports are distinct, all stop."""
    path = stackfile(STACK)
    code = ("import os,json;print(json.dumps({'db':os.environ['DATABASE_URL'],'web':os.environ['WEB_URL']}))")
    env = {**os.environ}
    env.pop("STACKRIG_STATE", None)
    procs = [subprocess.Popen([sys.executable, "-m", "stackrig.cli", "run", "--", sys.executable, "-c", code],
                              cwd=path.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for _ in range(4)]
    results = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [r[1][-500:] for r in results]
    urls = [json.loads(out) for out, _ in results]
    ports = [u.rsplit(":", 1)[1].split("/")[0] for r in urls for u in r.values()]
    assert len(set(ports)) == 8


def test_ctrl_c_while_a_detached_stack_starts_stops_it(stackfile: Callable[[str], Path]) -> None:
    path = stackfile("""
        [services.slow]
        kind = "process"
        command = ["@PY@", "@PROGRAMS@/serve_http.py"]
        env = { READY_AFTER = "30" }
        ready = { http = "/health" }
        start_timeout = 60
    """)
    proc = subprocess.Popen([sys.executable, "-m", "stackrig.cli", "up", "-d"], cwd=path.parent,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    logs = path.parent / ".stackrig" / "runs"
    try:
        assert wait_until(lambda: any(logs.glob("*/logs/slow.log")), 60)
        log = next(logs.glob("*/logs/slow.log"))
        assert wait_until(lambda: "serving" in log.read_text(), 60)
        run_id = log.parent.parent.name
        assert marked_pids(run_id)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(60)
    assert proc.returncode == 130
    assert wait_until(lambda: marked_pids(run_id) == [], 30)


def test_the_stack_file_option_may_follow_the_verb(stackfile: Callable[[str], Path], tmp_path: Path) -> None:
    """`stackrig run -f FILE -- CMD` (the compose habit) as `stackrig -f FILE run -- CMD`; `logs -f` stays
    `--follow`, and what follows `--` is the command's."""
    from stackrig.cli import hoist_global_options

    assert hoist_global_options(["run", "-f", "c.yml", "--", "grep", "-f", "x"]) == [
        "--file", "c.yml", "run", "--", "grep", "-f", "x"]
    assert hoist_global_options(["logs", "api", "-f"]) == ["logs", "api", "-f"]
    assert hoist_global_options(["up", "-d", "--file=s.toml"]) == ["--file=s.toml", "up", "-d"]
    path = stackfile('[services.c]\nkind = "redis"\nexport = { REDIS_URL = "${url}" }\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = run_cli("run", "-f", str(path), "--", sys.executable, "-c", "import os; print(os.environ['REDIS_URL'])",
                   cwd=elsewhere)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().startswith("redis://127.0.0.1:")
    missing = run_cli("status", "-f", str(tmp_path / "nope.toml"), cwd=elsewhere)
    assert missing.returncode != 0 and "nope.toml: no such stack file" in missing.stderr
