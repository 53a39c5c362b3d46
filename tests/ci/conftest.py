"""Fixtures for the CI tests: a project, the CLI in-process."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from ci_support import Result, make_project


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "shop")


@pytest.fixture
def ci_cli(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """``stackrig ARGS...`` through the real click application, in-process, in folder `cwd`
    (the `ci` verb registered for the test when `_verbs.py` does not list it yet)."""
    from click.testing import CliRunner

    from stackrig.cli import _app

    if "ci" not in _app._MODULES:
        monkeypatch.setitem(_app._MODULES, "ci", "ci")

    def invoke(*args: str, cwd: Path) -> Result:
        monkeypatch.chdir(cwd)
        done = CliRunner().invoke(_app.cli, list(args), catch_exceptions=False)
        return Result(done.exit_code, done.output)  # stdout and stderr, interleaved

    return invoke
