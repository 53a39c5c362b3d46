"""Contracts in pytest: the session pact files are recorded into, and the ``pact_verify`` fixture.

* The session: every pact interaction recorded during this pytest run — by the http-stub services'
  resets, in this process or in pytest-xdist workers (each has its own stub server) — goes into one
  *session*, so the pact files end up holding the union of all workers' interactions, once each.
  The controller names the session (``STACKRIG_PACT_SESSION``) and hands it to the workers; the
  terminal summary lists the pact files written.
* ``pact_verify(*pacts, provider="api", states=..., broker=...)``: verify pacts against a service
  of the session's stack with the real Pact verifier, the per-test reset run before every
  interaction; it fails the test (``PactVerificationFailed``, an AssertionError, with every
  mismatch) unless ``check=False``, and returns the report.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ._session import SESSION_KEY, session_of

if TYPE_CHECKING:
    from ..pact import VerificationReport
    from ..rig import Rig

__all__ = ["PactSupport", "configure", "pact_verify"]

SESSION_ENV = "STACKRIG_PACT_SESSION"  # as stackrig.pact (not imported: most sessions use no pacts)
_WORKER_KEY = "stackrig_pact_session"


class PactSupport:
    """Names the session's pact recording and reports the files written."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.previous = os.environ.get(SESSION_ENV)
        workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
        token = workerinput.get(_WORKER_KEY) if workerinput else None
        self.token = str(token or f"pytest-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}")
        os.environ[SESSION_ENV] = self.token

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[_WORKER_KEY] = self.token

    def written(self) -> list[tuple[str, int]]:
        session = self.config.stash.get(SESSION_KEY, None)
        if session is None:
            return []
        parts = Path(session.stack.root) / ".stackrig" / "pact-parts"
        if not parts.is_dir():
            return []
        from ..pact import session_files

        return session_files(parts, self.token)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if hasattr(self.config, "workerinput"):
            return
        files = self.written()
        if not files:
            return
        root = Path(self.config.rootpath)
        shown = []
        for file, count in files:
            try:
                where = str(Path(file).relative_to(root))
            except ValueError:
                where = file
            shown.append(f"{where} ({count} interaction{'s' if count != 1 else ''})")
        terminalreporter.write_line("stackrig: pact files written: " + ", ".join(shown))

    def pytest_unconfigure(self) -> None:
        if self.previous is None:
            os.environ.pop(SESSION_ENV, None)
        else:
            os.environ[SESSION_ENV] = self.previous


def configure(config: pytest.Config) -> None:
    """Called from the plugin's ``pytest_configure`` when a stack is in use."""
    if not config.pluginmanager.hasplugin("stackrig-pact"):
        config.pluginmanager.register(PactSupport(config), "stackrig-pact")


@pytest.fixture
def pact_verify(request: pytest.FixtureRequest, rig: Rig) -> Callable[..., VerificationReport]:
    """``pact_verify(*pacts, provider=SERVICE, states=None, broker=None, check=True, **options)``:
    verify pact files against a service of the stack (see ``stackrig.pact.verify_pacts`` for the
    options); the stack's data is reset before every interaction."""
    session = session_of(request.config)
    label = f"{request.node.nodeid} (pact verify)"

    def verify(*pacts: str | os.PathLike[str], provider: str, states: Any = None, broker: str | None = None,
               check: bool = True, **options: Any) -> VerificationReport:
        os.environ.setdefault("PACT_DO_NOT_TRACK", "true")
        from ..pact import configured_states, verify_with_rig

        resets = session.resets
        reset = (lambda: resets.after(label)) if resets is not None else None
        report = verify_with_rig(rig, [os.fspath(p) for p in pacts], provider=provider, states=states,
                                 broker=broker, reset=reset, root=session.stack.root,
                                 configured_states=configured_states(session.stack, provider), **options)
        rig.results.append((provider, report))  # a section of the run's report
        return report.raise_for_failures() if check else report

    return verify
