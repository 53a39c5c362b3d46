"""Fixtures of the scan tests: the test stack, up (detached) for the session, and one full scan of
each app, shared by the tests that check what it found."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import run_cli
from scanhelpers import FIXED_SECRET, token, write_project

from stackrig.scan import ScanResult, run_scan

# Small Schemathesis budgets keep the suite quick; stackrig's own checks run in full either way.
MAX_EXAMPLES = 5
DELAY = 1.0


class Running:
    """The stack that `stackrig up -d` runs in `folder`, and its services' URLs."""

    def __init__(self, folder: Path, record: dict[str, object]) -> None:
        self.folder = folder
        services = record["services"]
        assert isinstance(services, list)
        self.urls: dict[str, str] = {s["name"]: s["url"] for s in services}


@pytest.fixture(scope="session")
def scan_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    folder = tmp_path_factory.mktemp("scan-project")
    write_project(folder)
    up = run_cli("up", "-d", cwd=folder, timeout=180)
    assert up.returncode == 0, up.stdout + up.stderr
    try:
        status = json.loads(run_cli("status", "--json", cwd=folder).stdout)
        yield Running(folder, status["stack"])
    finally:
        down = run_cli("down", cwd=folder)
        assert down.returncode == 0, down.stderr


@pytest.fixture(scope="session")
def tokens(scan_stack: Running) -> dict[str, str]:
    """A valid access token of each app, taken before any scan: the fixed twin limits failed logins
    per client, and after a scan's burst of them it answers even the right password with 429 for a
    minute."""
    return {name: token(scan_stack.urls[name]) for name in ("vulnerable", "fixed")}


@pytest.fixture(scope="session")
def vulnerable_scan(scan_stack: Running, tokens: dict[str, str]) -> ScanResult:
    return run_scan(scan_stack.urls["vulnerable"], auth=f"Authorization: Bearer {tokens['vulnerable']}", delay=DELAY,
                    max_examples=MAX_EXAMPLES, seed=1)


@pytest.fixture(scope="session")
def fixed_scan(scan_stack: Running, tokens: dict[str, str]) -> ScanResult:
    return run_scan(scan_stack.urls["fixed"], auth=f"Authorization: Bearer {tokens['fixed']}",
                    jwt_secret=FIXED_SECRET, delay=DELAY, max_examples=MAX_EXAMPLES * 2, seed=1)
