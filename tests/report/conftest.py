"""Fixtures for the report's tests: one real pytest run against a real (small) stack, a real Chromium."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from report_helpers import CHROMIUM, CHROMIUM_ARGS, Run, run_pytest


@pytest.fixture(scope="session")
def real_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """One real run: a process service, a failing test that makes it log, passes, a skip, an xfail."""
    run = run_pytest(tmp_path_factory.mktemp("real-run"))
    assert run.html.exists(), run.done.stdout[-3000:] + run.done.stderr[-3000:]
    return run


@pytest.fixture(scope="session")
def xdist_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The same suite under ``-n 2``, with ``junit_logging = system-out`` (pytest writes a <system-out> too)."""
    pytest.importorskip("xdist")
    run = run_pytest(tmp_path_factory.mktemp("xdist-run"), "-n", "2", "-o", "junit_logging=system-out")
    assert run.html.exists(), run.done.stdout[-3000:] + run.done.stderr[-3000:]
    return run


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip("no Chromium at /usr/bin/chromium")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
                              args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def report_page(chromium: Any) -> Iterator[Any]:
    """A fresh page (named so as not to clash with pytest-playwright's `page`); `.errors` collects JS errors."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.errors = []
    pg.on("pageerror", lambda exc: pg.errors.append(str(exc)))
    try:
        yield pg
    finally:
        context.close()
