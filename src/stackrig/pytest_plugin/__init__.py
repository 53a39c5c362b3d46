"""The pytest plugin (the ``pytest11`` entry point ``stackrig``): the ``rig`` fixture over the
stack in the rootdir, per-test resets, xdist roles and failure reports.

``--stackrig-file PATH`` (or ini ``stackrig_file``) picks the stack file; ``--no-stackrig``
turns the plugin off.
"""

from __future__ import annotations

import pytest

from ..errors import StackrigError
from ._fixtures import rig, rig_session, rig_transaction
from ._options import addoption, stack_file
from ._pact import configure as configure_pact, pact_verify
from ._reporting import addoption as addoption_reporting, configure as configure_reporting
from ._session import SESSION_KEY, STATE_ENV, StackrigSession
from ._shards import addoption as addoption_shards, configure as configure_shards

__all__ = ["STATE_ENV", "StackrigSession", "pact_verify", "rig", "rig_session", "rig_transaction"]


def pytest_addoption(parser: pytest.Parser) -> None:
    addoption(parser)
    from ._browser import addoption as browser_options

    browser_options(parser)
    addoption_reporting(parser)
    addoption_shards(parser)


def pytest_configure(config: pytest.Config) -> None:
    configure_shards(config)  # --stackrig-shard K/N (with or without a stack)
    if config.getoption("stackrig_disabled"):
        return
    configure_reporting(config)  # --stackrig-report, and stackrig's sections in --junitxml
    path = stack_file(config)
    if path is None:
        return
    from ..services import load_stack

    try:
        stack = load_stack(path)
    except StackrigError as exc:
        raise pytest.UsageError(f"stackrig: {exc}") from None
    session = StackrigSession(config, stack)
    config.stash[SESSION_KEY] = session
    config.pluginmanager.register(session, "stackrig-session")
    configure_pact(config)  # the session pact files record into; the pact_verify fixture
    if config.pluginmanager.hasplugin("playwright"):  # pytest-playwright: pages open the stack's web service
        from ._browser import keep_artifacts_on_failure, register as register_browser

        keep_artifacts_on_failure(config)
        register_browser(config)
