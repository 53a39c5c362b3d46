"""Fixtures for the stub server tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from stubhelpers import StartStub, StubProcess


@pytest.fixture
def start_stub() -> Iterator[StartStub]:
    """Start stub servers for one test; every one is stopped at the end."""
    started: list[StubProcess] = []

    def start(root: Path | None = None, *extra: str, ready: bool = True) -> StubProcess:
        proc = StubProcess(root, *extra)
        started.append(proc)
        return proc.wait_ready() if ready else proc

    yield start
    for proc in started:
        proc.stop()


@pytest.fixture(scope="module")
def shared_stub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StubProcess]:
    """One server for a module whose tests reset it before use."""
    proc = StubProcess(tmp_path_factory.mktemp("stubroot")).wait_ready()
    yield proc
    proc.stop()
