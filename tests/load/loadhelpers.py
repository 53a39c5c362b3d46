"""What the load tests share: the stacks they run, the Locust files, the CLI in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from helpers import run_cli

HERE = Path(__file__).parent
LOCUSTFILES = HERE / "locustfiles"
DELAY_MS = 50  # the stub's fixed delay on /slow

STUB_STACK = """\
[services.api]
kind = "http-stub"
mappings = "stubs"
"""
MAPPINGS = {
    "slow.json": {"request": {"method": "GET", "url": "/slow"},
                  "response": {"status": 200, "body": "slow", "fixedDelayMilliseconds": DELAY_MS}},
    "fast.json": {"request": {"method": "GET", "url": "/fast"}, "response": {"status": 200, "body": "fast"}},
}
APP_STACK = f"""\
[services.app]
kind = "process"
command = [{json.dumps(sys.executable)}, {json.dumps(str(HERE / "app.py"))}]
ready = {{ http = "/health" }}
"""


def load_cli(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`stackrig load ...` through the real CLI in a subprocess."""
    return run_cli("load", *args, cwd=cwd, timeout=timeout)


def write_stub_project(folder: Path) -> Path:
    (folder / "stubs" / "mappings").mkdir(parents=True, exist_ok=True)
    for name, mapping in MAPPINGS.items():
        (folder / "stubs" / "mappings" / name).write_text(json.dumps(mapping))
    path = folder / "stackrig.toml"
    path.write_text(STUB_STACK)
    return path


def write_app_project(folder: Path) -> Path:
    path = folder / "stackrig.toml"
    path.write_text(APP_STACK)
    return path
