"""Helpers of the pact tests: the conformance pacts, the `stackrig` CLI in a subprocess, and a
real provider stack (PostgreSQL, Redis, a users/orders service) run once for the module."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ["PACT_DO_NOT_TRACK"] = "true"  # pact-python and pact-js: no usage reporting, in every child too

HERE = Path(__file__).resolve().parent
# the shared conformance data sits beside the checkout (../shared); the tests using it skip without it
CONFORMANCE = HERE.parents[2] / "shared" / "conformance" / "pact"

USERS_STACK = """\
[services.db]
kind = "postgres"
database = "users"
init = ["provider/schema.sql"]
export = { DATABASE_URL = "${url}" }

[services.cache]
kind = "redis"
export = { REDIS_URL = "${url}" }

[services.users]
kind = "process"
command = "@PY@ provider/users.py"
depends_on = ["db", "cache"]
ready = { http = "/health" }
export = { USERS_URL = "${url}" }
"""


def conformance_dir() -> Path:
    """The shared conformance pacts' folder; the test skips when the checkout has no ../shared beside it."""
    if not any(CONFORMANCE.glob("*.json")):
        pytest.skip(f"no conformance pacts in {CONFORMANCE} (the shared data beside the checkout)")
    return CONFORMANCE


def conformance_files() -> list[Path]:
    files = sorted(CONFORMANCE.glob("*.json"))
    if not files:
        pytest.skip(f"no conformance pacts in {CONFORMANCE}")
    return files


def pact_cli(*args: str, cwd: Path, timeout: float = 180, env: dict[str, str] | None = None,
             ) -> subprocess.CompletedProcess[str]:
    """`stackrig ARGS` in a subprocess."""
    full = {**os.environ, "COLUMNS": "200", "PACT_DO_NOT_TRACK": "true", **(env or {})}
    full.pop("STACKRIG_STATE", None)
    full.pop("STACKRIG_PACT_SESSION", None)
    return subprocess.run([sys.executable, "-m", "stackrig.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=full)


def make_users_project(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copytree(HERE / "provider", folder / "provider", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "stackrig.toml").write_text(textwrap.dedent(USERS_STACK).replace("@PY@", sys.executable))
    return folder


@pytest.fixture(scope="session")
def users_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A project whose stack `stackrig up -d` runs for the session: the CLI attaches to it, and so
    do the in-process `users_rig` and the pytest sessions run with `--stackrig-file` on it."""
    folder = make_users_project(tmp_path_factory.mktemp("users"))
    up = pact_cli("up", "-d", cwd=folder)
    assert up.returncode == 0, up.stdout + up.stderr
    try:
        yield folder
    finally:
        down = pact_cli("down", cwd=folder)
        assert down.returncode == 0, down.stdout + down.stderr


@pytest.fixture
def users_rig(users_project: Path) -> Iterator[object]:
    from stackrig.rig import Rig
    from stackrig.run._current import read_current

    record = read_current(users_project)
    assert record is not None
    rig = Rig(record)
    try:
        yield rig
    finally:
        rig.close()
