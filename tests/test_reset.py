"""`stackrig reset` and the control channel's reset: what other test runners call between tests."""

from __future__ import annotations

import json
import socket
import sys
from collections.abc import Callable
from pathlib import Path

from helpers import run_cli

STACK = """
[services.db]
kind = "postgres"
init = ["schema.sql"]
seed = ["seed.sql"]
export = { DATABASE_URL = "${url}" }

[services.payments]
kind = "http-stub"
export = { PAYMENTS_URL = "${url}" }

[services.smtp]
kind = "smtp"
export = { SMTP_PORT = "${port}" }
"""

SCRIPT = r"""
import json, os, smtplib, subprocess, sys
import httpx, psycopg

db = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
db.execute("INSERT INTO items (name) VALUES ('made by the test')")
httpx.post(os.environ["PAYMENTS_URL"] + "/__admin/mappings",
           json={"request": {"url": "/x"}, "response": {"status": 204}}).raise_for_status()
with smtplib.SMTP("127.0.0.1", int(os.environ["SMTP_PORT"])) as s:
    s.sendmail("a@example.com", ["b@example.com"], "Subject: hi\n\nhello")
done = subprocess.run([sys.executable, "-m", "stackrig.cli", "reset", "--json"], capture_output=True, text=True)
assert done.returncode == 0, done.stderr
reply = json.loads(done.stdout)
assert sorted(reply["reset"]) == ["db", "payments", "smtp"], reply
assert db.execute("SELECT name FROM items ORDER BY id").fetchall() == [("seed",)]
assert httpx.get(os.environ["PAYMENTS_URL"] + "/x").status_code == 404
state = json.load(open(os.environ["STACKRIG_STATE"]))
box = [s for s in state["services"] if s["name"] == "smtp"][0]["attributes"]["mailbox"]
assert os.listdir(box) == [], os.listdir(box)
print("all reset")
"""


def project(stackfile: Callable[[str], Path]) -> Path:
    path = stackfile(STACK)
    (path.parent / "schema.sql").write_text("CREATE TABLE items (id serial PRIMARY KEY, name text);\n")
    (path.parent / "seed.sql").write_text("INSERT INTO items (name) VALUES ('seed');\n")
    (path.parent / "test_script.py").write_text(SCRIPT)
    return path.parent


def test_a_command_under_stackrig_run_resets_between_its_tests(stackfile: Callable[[str], Path]) -> None:
    folder = project(stackfile)
    done = run_cli("run", "--", sys.executable, "test_script.py", cwd=folder, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "all reset" in done.stdout


def test_reset_of_a_stack_up_in_the_background(stackfile: Callable[[str], Path]) -> None:
    folder = project(stackfile)
    assert run_cli("up", "-d", cwd=folder).returncode == 0
    try:
        one = run_cli("reset", "db", cwd=folder)
        assert one.returncode == 0 and "reset db in " in one.stderr, one.stderr
        bad = run_cli("reset", "dbb", cwd=folder)
        assert bad.returncode == 1
        assert "reset: no service named 'dbb' in this stack; services: db, payments, smtp" in bad.stderr
        # the protocol itself: one JSON line on the owner's Unix socket (what the shop's Jest helper does)
        status = json.loads(run_cli("status", "--json", cwd=folder).stdout)
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(status["stack"]["control"])
            sock.sendall(json.dumps({"op": "reset", "services": ["payments"]}).encode() + b"\n")
            reply = json.loads(sock.makefile().readline())
        assert reply["ok"] is True and reply["reset"] == ["payments"]
    finally:
        run_cli("down", cwd=folder)
    gone = run_cli("reset", cwd=folder)
    assert gone.returncode == 1 and "no stack is running for" in gone.stderr
