"""Fixtures of the load tests: a stub stack (fixed delays) and a process app, run through the real CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import run_cli
from loadhelpers import write_app_project, write_stub_project


@pytest.fixture
def stub_project(tmp_path: Path) -> Path:
    """A project folder whose stack is one http-stub service `api` (not running)."""
    return write_stub_project(tmp_path).parent


@pytest.fixture
def app_project(tmp_path: Path) -> Path:
    """A project folder whose stack is one process service `app` (not running)."""
    return write_app_project(tmp_path).parent


class Running:
    """A stack that `stackrig up -d` runs in `folder`."""

    def __init__(self, folder: Path, record: dict[str, object]) -> None:
        self.folder = folder
        self.record = record
        services = record["services"]
        assert isinstance(services, list)
        self.urls = {s["name"]: s["url"] for s in services}


@pytest.fixture(scope="session")
def running_stub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """The stub stack, up (detached) for the whole session; the load runs attach to it."""
    folder = tmp_path_factory.mktemp("stub-project")
    write_stub_project(folder)
    up = run_cli("up", "-d", cwd=folder)
    assert up.returncode == 0, up.stderr
    try:
        status = json.loads(run_cli("status", "--json", cwd=folder).stdout)
        yield Running(folder, status["stack"])
    finally:
        down = run_cli("down", cwd=folder)
        assert down.returncode == 0, down.stderr
