"""The plugin's pact hooks: the session's recording name is set for the run and put back after it."""

from __future__ import annotations

import os

import pytest


def test_the_session_name_is_set_during_the_run_and_restored(pytester: pytest.Pytester,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STACKRIG_PACT_SESSION", raising=False)
    pytester.makefile(".toml", stackrig='[services.s]\nkind = "http-stub"\n')
    pytester.makepyfile(test_it="""
        import os

        def test_named():
            assert os.environ["STACKRIG_PACT_SESSION"].startswith("pytest-")

        def test_the_fixture_is_offered(request):
            assert request._fixturemanager.getfixturedefs("pact_verify", request.node)
        """)
    result = pytester.runpytest_inprocess("-p", "no:randomly", "-p", "no:xdist", "-q")
    result.assert_outcomes(passed=2)
    assert "STACKRIG_PACT_SESSION" not in os.environ
    assert "pact files written" not in result.stdout.str()  # nothing recorded, nothing listed
