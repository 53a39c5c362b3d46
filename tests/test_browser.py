"""Browser tests through pytest-playwright on the stack's web service, in a real Chromium; the
WebSocket readiness probe and `rig.websocket`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import PROGRAMS

from stackrig import Stack
from stackrig.services import BROWSERS, candidates

pytest.importorskip("pytest_playwright")

STACK = f"""
[services.web]
kind = "process"
command = ["{{py}}", "{PROGRAMS}/web_page.py"]
ready = {{ websocket = "/ws" }}
"""


def stack_text() -> str:
    import sys

    return STACK.replace("{py}", sys.executable)


def test_the_websocket_probe_and_client(stackfile: Callable[[str], Path]) -> None:
    with Stack.load(stackfile(stack_text())) as rig:
        with rig.websocket("web", "/ws") as ws:
            ws.send("hello")
            assert ws.recv(timeout=5) == "echo: hello"


@pytest.mark.slow
def test_pages_open_the_web_service_in_chromium(pytester: pytest.Pytester) -> None:
    if not candidates(BROWSERS["chromium"]):
        pytest.skip("no Chromium on this machine (apt-get install chromium)")
    pytester.makefile(".toml", stackrig=stack_text())
    pytester.makepyfile("""
        from playwright.sync_api import expect

        def test_click(page):
            page.goto("/")
            page.click("#go")
            expect(page.locator("#out")).to_have_text("clicked")

        def test_fails_and_keeps_its_trace(page):
            page.goto("/")
            expect(page.locator("#out")).to_have_text("never", timeout=500)
    """)
    result = pytester.runpytest_subprocess("-p", "no:randomly")
    result.assert_outcomes(passed=1, failed=1)
    assert "PytestRemovedIn" not in result.stdout.str()  # the fixtures are written as pytest wants them
    result.stdout.fnmatch_lines(["*stackrig: browser trace and screenshot*", "*trace: */trace.zip*",
                                 "*screenshot: */test-failed-1.png*"])
    folder = next((pytester.path / "test-results").iterdir())
    assert {p.name for p in folder.iterdir()} >= {"trace.zip", "test-failed-1.png"}


def test_no_browser_at_all_skips_and_says_how(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", stackrig=stack_text())
    pytester.makeconftest("""
        import stackrig.services._runtimes as r
        from stackrig.services import BinarySpec
        r.BROWSERS["chromium"] = BinarySpec(name="chromium", role="browser", executables=("no-such-chromium",),
                                            system_dirs=(), install={"apt": "chromium"})
    """)
    pytester.makepyfile("""
        def test_page(page):
            page.goto("/")
    """)
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*no browser for Playwright*apt-get install chromium*"])
