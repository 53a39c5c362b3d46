"""Helpers of the scan tests: the project with the vulnerable app and its fixed twin, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

HERE = Path(__file__).parent
APPS = HERE / "apps"
VULNERABLE_SECRET = "vulnerable-secret-0123456789abcdef"
FIXED_SECRET = "fixed-secret-0123456789abcdef0123"
USER, PASSWORD = "alice", "wonderland-secret"

STACK = """\
# The scanner's test stack: PostgreSQL (for the blind, time-based SQL injection), the deliberately
# vulnerable app and its fixed twin, both as real uvicorn processes.
[services.db]
kind = "postgres"
export = {{ DATABASE_URL = "${{url}}" }}

[services.vulnerable]
kind = "process"
cwd = "{apps}"
command = "${{python}} -m uvicorn vulnerable:app --host 127.0.0.1 --port ${{self.port}} --log-level warning"
depends_on = ["db"]
ready = {{ http = "/health" }}
env = {{ JWT_SECRET = "{vulnerable_secret}", APP_DATA = "{data}/vulnerable" }}

[services.fixed]
kind = "process"
cwd = "{apps}"
command = "${{python}} -m uvicorn fixed:app --host 127.0.0.1 --port ${{self.port}} --log-level warning"
depends_on = ["db"]
ready = {{ http = "/health" }}
env = {{ JWT_SECRET = "{fixed_secret}", APP_DATA = "{data}/fixed" }}
"""


def write_project(folder: Path) -> Path:
    folder = folder.resolve()
    (folder / "data").mkdir(exist_ok=True)
    path = folder / "stackrig.toml"
    path.write_text(STACK.format(apps=APPS, data=folder / "data", vulnerable_secret=VULNERABLE_SECRET,
                                 fixed_secret=FIXED_SECRET))
    return path


def scan_cli(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`stackrig scan ...` (the real CLI) in a subprocess."""
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    env.pop("STACKRIG_STATE", None)
    return subprocess.run([sys.executable, "-m", "stackrig.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)


def token(url: str) -> str:
    """A valid access token of the app at `url` (its /login, with the right password)."""
    reply = httpx.post(f"{url}/login", json={"username": USER, "password": PASSWORD}, timeout=10)
    reply.raise_for_status()
    return str(reply.json()["access_token"])
