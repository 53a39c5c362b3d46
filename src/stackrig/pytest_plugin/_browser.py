"""Browser tests with pytest-playwright on the stack: `page` opens the stack's web service, the
system's Chromium stands in when Playwright has no browser of its own, and a failing test keeps
its trace and screenshot and names them in its report.

Active when pytest-playwright is installed and a stack file is in use.  The web service is the
one named by ``--stackrig-web`` / ini ``stackrig_web`` (default: a service named ``web``); an
explicit ``--base-url`` wins.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from ..errors import StackrigError

__all__ = ["HEADLESS_ARGS", "addoption", "base_url", "browser_type_launch_args", "register", "web_service"]

# Chromium on CI machines and in containers: no sandbox (root), no GPU, no calls home
HEADLESS_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("stackrig")
    group.addoption("--stackrig-web", dest="stackrig_web", default=None,
                    help="the stack's service whose URL is pytest-playwright's base_url (default: 'web')")
    parser.addini("stackrig_web", "the service whose URL is pytest-playwright's base_url", default="")


def web_service(config: pytest.Config) -> str:
    """The service whose URL is the browser's base_url."""
    return str(config.getoption("stackrig_web") or config.getini("stackrig_web") or "web")


# Fixtures that override pytest-playwright's: this module is registered as a plugin after it (see
# `register`), so each can ask for the original of the same name.

@pytest.fixture(scope="session")
def base_url(pytestconfig: pytest.Config, request: pytest.FixtureRequest) -> str | None:
    given = pytestconfig.getoption("base_url", default=None) or pytestconfig.getini("base_url")
    if given:
        return str(given)
    web = web_service(pytestconfig)
    rig = request.getfixturevalue("rig")
    if web not in rig:
        if pytestconfig.getoption("stackrig_web") or pytestconfig.getini("stackrig_web"):
            raise pytest.UsageError(f"--stackrig-web {web!r}: the stack has no such service; "
                                    f"services: {', '.join(rig.services)}")
        return None
    return str(rig[web].url)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any], browser_type: Any,
                             browser_name: str) -> dict[str, Any]:
    if browser_name != "chromium" or "executable_path" in browser_type_launch_args:
        return browser_type_launch_args
    own = Path(browser_type.executable_path)
    if own.exists():
        return browser_type_launch_args
    from ..services import BROWSERS, find_binary

    try:
        chromium = find_binary(BROWSERS["chromium"], service="playwright")
    except StackrigError as exc:
        pytest.skip(f"no browser for Playwright: it has none of its own ({own} is missing) and the system "
                    f"has no Chromium; {exc.hint or ''}")
    args = [a for a in HEADLESS_ARGS if browser_type_launch_args.get("headless", True) or a != "--headless=new"]
    return {**browser_type_launch_args, "executable_path": str(chromium.exe),
            "args": [*browser_type_launch_args.get("args", []), *args]}


def register(config: pytest.Config) -> None:
    """Register this module's fixtures (after pytest-playwright's, which they wrap)."""
    import sys

    if not config.pluginmanager.hasplugin("stackrig-browser"):
        config.pluginmanager.register(sys.modules[__name__], "stackrig-browser")


def keep_artifacts_on_failure(config: pytest.Config) -> None:
    """Traces and screenshots of failing browser tests, unless the user chose otherwise."""
    option = config.option
    if getattr(option, "tracing", None) == "off":
        option.tracing = "retain-on-failure"
    if getattr(option, "screenshot", None) == "off":
        option.screenshot = "only-on-failure"


def artifacts_section(item: pytest.Item) -> str:
    """Where pytest-playwright keeps a failing test's trace and screenshot (written when its browser
    context closes, right after this report)."""
    try:
        from pytest_playwright.pytest_playwright import _truncate_file_name
        from slugify import slugify
    except ImportError:
        return ""
    if "page" not in getattr(item, "fixturenames", ()) and "context" not in getattr(item, "fixturenames", ()):
        return ""
    folder = Path(item.config.getoption("--output")).absolute() / _truncate_file_name(slugify(item.nodeid))
    lines = [f"folder: {folder}"]
    if item.config.getoption("--tracing") in ("on", "retain-on-failure"):
        lines.append(f"trace: {folder / 'trace.zip'}  (open it with `playwright show-trace {os.path.relpath(folder)}"
                     "/trace.zip`)")
    if item.config.getoption("--screenshot") in ("on", "only-on-failure"):
        lines.append(f"screenshot: {folder / 'test-failed-1.png'}")
    return "\n".join(lines)
