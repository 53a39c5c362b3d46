"""Helpers for the report's tests (importable as `report_helpers`): real pytest runs against a real stack."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from helpers import PROGRAMS

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

STACK = f"""
[services.api]
kind = "process"
command = ["{sys.executable}", "{PROGRAMS}/serve_http.py"]
ready = {{ http = "/health" }}
"""

# a 1x1 PNG
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360f8cfc0f01f0005fe02fea7d6a4"
                    "5e0000000049454e44ae426082")

SUITE = f'''
import pytest

def test_ok_one(rig):
    assert rig.http("api").get("/health").status_code == 200

def test_ok_two():
    pass

def test_fails_with_logs(rig, record_property, tmp_path):
    rig.http("api").get("/during-the-failing-test")
    shot = tmp_path / "screenshot.png"
    shot.write_bytes(bytes.fromhex("{PNG.hex()}"))
    trace = tmp_path / "trace.zip"
    trace.write_bytes(b"PK\\x05\\x06" + bytes(18))
    record_property("stackrig.attachment", str(shot))
    record_property("stackrig.attachment", {{"path": str(trace), "name": "browser trace"}})
    print("printed by the failing test")
    assert 1 == 2, "boom from the failing test"

@pytest.mark.skip(reason="not today")
def test_skipped():
    pass

@pytest.mark.xfail(reason="known bug")
def test_expected_to_fail():
    assert False

@pytest.mark.parametrize("n", range(6))
def test_many(n, rig):
    assert rig["api"].port
'''


class Run:
    """A finished pytest run in its own folder."""

    def __init__(self, folder: Path, done: subprocess.CompletedProcess[str]) -> None:
        self.folder = folder
        self.done = done
        self.html = folder / "out" / "report.html"
        self.json = folder / "out" / "report.json"
        self.junit = folder / "out" / "junit.xml"


def run_pytest(folder: Path, *args: str, suite: str = SUITE, stack: bool = True, timeout: float = 180) -> Run:
    """Run pytest in a subprocess in ``folder`` on ``suite`` (with the stack file), ``--stackrig-report`` and
    ``--junitxml`` into ``folder/out``."""
    folder.mkdir(parents=True, exist_ok=True)
    if stack:
        (folder / "stackrig.toml").write_text(STACK)
    (folder / "test_suite.py").write_text(textwrap.dedent(suite))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "STACKRIG_"))}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:randomly", "-p", "no:cacheprovider", "-q",
         "--basetemp", str(folder / "tmp"),  # its own: pytest prunes all but the last few of the shared ones
         "--stackrig-report", "out/report.html", "--junitxml", "out/junit.xml", *args],
        cwd=folder, capture_output=True, text=True, timeout=timeout, env=env)
    return Run(folder, done)
