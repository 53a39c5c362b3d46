"""`stackrig pact verify` and the pytest helpers against a real provider (PostgreSQL, Redis, a
users service) with the real Pact verifier: V3 and V4 pacts hold, mismatches are printed, the data
is reset between interactions, and every error says what and where."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path
from typing import Any

import pytest
from pacthelpers import conformance_dir, conformance_files, make_users_project, pact_cli

from stackrig.pact import ProviderUnreachable, verify_with_rig

pytestmark = pytest.mark.slow


def _http(description: str, state: str | None, path: str, status: int, body: Any = None) -> dict[str, Any]:
    response: dict[str, Any] = {"status": status}
    if body is not None:
        response["headers"] = {"Content-Type": ["application/json"]}
        response["body"] = {"content": body, "contentType": "application/json", "encoded": False}
    item: dict[str, Any] = {"type": "Synchronous/HTTP", "description": description,
                            "request": {"method": "GET", "path": path}, "response": response}
    if state:
        item["providerStates"] = [{"name": state}]
    return item


def _pact(folder: Path, name: str, *interactions: dict[str, Any]) -> Path:
    path = folder / name
    path.write_text(json.dumps({"consumer": {"name": "web"}, "provider": {"name": "UserService"},
                                "metadata": {"pactSpecification": {"version": "4.0"}},
                                "interactions": list(interactions)}))
    return path


def _verify(project: Path, *args: str) -> Any:
    return pact_cli("pact", "verify", *args, "--provider", "users", "--states", "provider/states.py", cwd=project)


def test_v3_and_v4_pacts_from_python_and_js_hold(users_project: Path) -> None:
    """Each interaction's state inserts user 1: without the reset before every interaction the second
    and third would fail on the primary key."""
    done = _verify(users_project, str(conformance_dir()))
    assert done.returncode == 0, done.stdout + done.stderr
    for consumer in ("UserWebConsumerV3", "UserWebConsumerJS", "UserWebConsumer"):
        assert f"  ok    {consumer} -> UserService: a request for user 1 (given user 1 exists)" in done.stdout
    assert "all 3 interactions hold" in done.stdout
    assert "pact verify: service 'users' of the running stack" in done.stderr


def test_mismatches_a_failing_state_and_the_reset_between_interactions(users_project: Path, users_rig: Any) -> None:
    pact = _pact(users_project, "mixed.json",
                 _http("user 1 as Bob", "user 1 exists", "/users/1", 200,
                       {"id": 1, "name": "Bob", "email": "alice@example.com"}),
                 _http("broken", "a broken state", "/users/1", 200),
                 _http("no user after the reset", "no users exist", "/users/1", 404),
                 _http("no such route", None, "/nope", 200))
    done = _verify(users_project, str(pact))
    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    assert "  FAIL  web -> UserService: user 1 as Bob (given user 1 exists)" in out
    assert 'body $.name: expected "Bob", found "Alice"' in out
    assert "  FAIL  web -> UserService: broken (given a broken state)" in out
    assert ("state: provider state 'a broken state' (broken (states.py:27)) raised RuntimeError: the fixture data "
            "could not be written") in out
    assert "  ok    web -> UserService: no user after the reset (given no users exist)" in out
    assert "  FAIL  web -> UserService: no such route" in out and "status: expected 200, found 404" in out
    assert "3 of 4 interactions failed" in out
    # the stack is left at its baseline afterwards, as after a test
    assert users_rig.sql("db").execute("SELECT count(*) FROM users").fetchone() == (0,)


def test_json_output(users_project: Path) -> None:
    done = _verify(users_project, str(conformance_files()[0]), "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["ok"] is True and data["service"] == "users"
    (item,) = data["interactions"]
    assert item == {"consumer": "UserWebConsumerV3", "provider": "UserService", "description": "a request for user 1",
                    "providerStates": ["user 1 exists"], "ok": True, "pending": False, "duration": item["duration"],
                    "mismatches": []}


@pytest.mark.parametrize(("content", "expected"), [
    ("this is not json", "not JSON: Expecting value at line 1, column 1"),
    ('{"consumer": {"name": "web"}, "interactions": []}', "not a pact: it has no provider name"),
])
def test_a_file_that_is_not_a_pact_exits_2_naming_it(users_project: Path, tmp_path: Path, content: str,
                                                     expected: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    done = _verify(users_project, str(conformance_files()[0]), str(bad))
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"error: {bad}: {expected}" in done.stderr
    assert done.stdout == ""  # nothing was verified


def test_an_unknown_provider_state_exits_2_naming_it_and_the_registered_ones(users_project: Path,
                                                                           tmp_path: Path) -> None:
    pact = _pact(tmp_path, "unknown.json", _http("d", "the moon is full", "/users/1", 200))
    done = _verify(users_project, str(pact))
    assert done.returncode == 2, done.stdout + done.stderr
    err = done.stderr
    assert f"error: no provider state function for 'the moon is full' (in {pact}, interaction 'd')" in err
    assert "  - user {id} exists  ->  user_exists (states.py:" in err
    assert "  - no users exist  ->  no_users (states.py:" in err
    assert '@provider_state("the moon is full")' in err


def test_errors_about_the_provider(users_project: Path, users_rig: Any) -> None:
    unknown = pact_cli("pact", "verify", str(conformance_dir()), "--provider", "userz", cwd=users_project)
    assert unknown.returncode == 2
    assert "no service named 'userz' in the stack (did you mean 'users'?)" in unknown.stderr
    none = pact_cli("pact", "verify", str(conformance_dir()), cwd=users_project)
    assert none.returncode == 2 and "name the provider: --provider SERVICE" in none.stderr
    closed = pact_cli("pact", "verify", str(conformance_dir()), "--url", "http://127.0.0.1:9", "--states",
                      "provider/states.py", cwd=users_project)
    assert closed.returncode == 1
    assert "the provider is not running: nothing answers at http://127.0.0.1:9" in closed.stderr
    users_rig["users"].stop()
    try:
        with pytest.raises(ProviderUnreachable, match="the provider 'users' is not running"):
            verify_with_rig(users_rig, [str(conformance_dir())], provider="users", states="provider/states.py")
    finally:
        users_rig["users"].start()


def test_the_library_call_resets_over_the_control_channel(users_project: Path, users_rig: Any) -> None:
    from stackrig.run import control_call

    calls: list[float] = []

    def reset() -> None:
        calls.append(1.0)
        control_call(users_rig.record.control, {"op": "reset"})

    report = verify_with_rig(users_rig, conformance_files(), provider="users", states="provider/states.py",
                             reset=reset)
    assert report.ok, report.render()
    assert len(report.results) == 3 and len(calls) == 4  # one per interaction, one to leave the baseline
    assert "all 3 interactions hold" in report.render()


def test_the_stack_is_brought_up_for_the_run_when_none_runs(tmp_path: Path) -> None:
    project = make_users_project(tmp_path / "fresh")
    done = _verify(project, str(conformance_files()[1]))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "pact verify: service 'users' of the stack brought up for this run" in done.stderr
    assert not (project / ".stackrig" / "current.json").exists()


def test_the_pytest_fixture(users_project: Path, pytester: pytest.Pytester) -> None:
    """`pact_verify(...)` in a test of a session attached to the running stack: failures fail the test
    with every mismatch; `check=False` hands back the report."""
    shutil.copy(conformance_files()[2], pytester.path / "good.json")
    _pact(pytester.path, "bad.json", _http("user 1 as Bob", "user 1 exists", "/users/1", 200,
                                           {"id": 1, "name": "Bob", "email": "alice@example.com"}))
    pytester.makepyfile(test_contract=textwrap.dedent(f"""
        import os
        os.environ["PACT_DO_NOT_TRACK"] = "true"
        STATES = {str(users_project / "provider" / "states.py")!r}

        def test_holds(pact_verify):
            report = pact_verify("good.json", provider="users", states=STATES)
            assert report.ok and len(report.results) == 1

        def test_report_without_failing(pact_verify):
            report = pact_verify("bad.json", provider="users", states=STATES, check=False)
            assert not report.ok and report.failed[0].description == "user 1 as Bob"

        def test_fails_with_the_mismatch(pact_verify):
            pact_verify("bad.json", provider="users", states=STATES)
        """))
    result = pytester.runpytest_subprocess("-p", "no:randomly", "--stackrig-file",
                                           str(users_project / "stackrig.toml"), "-q",
                                           "--stackrig-report", "out/report.html", timeout=180)
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*PactVerificationFailed*", '*body $.name: expected "Bob", found "Alice"*'])
    assert "stackrig: stack" in result.stdout.str() and "attached to stackrig up" in result.stdout.str()
    # every verification is a section of the run's report, one per consumer and provider
    sections = json.loads((pytester.path / "out" / "report.json").read_text())["sections"]
    pacts = [s for s in sections if s["type"] == "pact"]
    assert [(s["consumer"], s["provider"], s["ok"]) for s in pacts] == [
        ("UserWebConsumer", "users", True), ("web", "users", False), ("web", "users", False)]
    bob = pacts[1]["interactions"][0]
    assert bob["description"] == "user 1 as Bob" and bob["state"] == "user 1 exists" and not bob["ok"]
    assert any("expected \"Bob\", found \"Alice\"" in m for m in bob["mismatches"])


def test_the_rig_method(users_rig: Any, users_project: Path) -> None:
    """`rig.pact_verify(...)`: the same verification from a Rig attached to the running stack."""
    from stackrig.pact import PactVerificationFailed

    report = users_rig.pact_verify(*conformance_files(), provider="users", states="provider/states.py")
    assert report.ok and len(report.results) == 3
    bad = _pact(users_project, "bob.json", _http("user 1 as Bob", "user 1 exists", "/users/1", 200,
                                                  {"id": 1, "name": "Bob", "email": "alice@example.com"}))
    with pytest.raises(PactVerificationFailed) as caught:
        users_rig.pact_verify(bad, provider="users", states="provider/states.py")
    assert isinstance(caught.value, AssertionError)
    assert 'body $.name: expected "Bob", found "Alice"' in str(caught.value)
    assert caught.value.failed == 1 and caught.value.total == 1


def test_the_stack_file_names_the_states_module(tmp_path: Path) -> None:
    """`[stackrig] pact_states`: no `--states` needed; the stack is brought up for the verification."""
    project = make_users_project(tmp_path / "users")
    stack = project / "stackrig.toml"
    stack.write_text('[stackrig]\npact_states = "provider/states.py"\n\n' + stack.read_text())
    pact = _pact(project, "one.json", _http("user 1", "user 1 exists", "/users/1", 200))
    done = pact_cli("pact", "verify", str(pact), "--provider", "users", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "  ok    web -> UserService: user 1 (given user 1 exists)" in done.stdout
    unnamed = pact_cli("-f", str(stack), "pact", "verify", str(pact), "--provider", "users", cwd=tmp_path,
                       env={"STACKRIG_PACT_STATES": ""})
    assert unnamed.returncode == 0, unnamed.stdout + unnamed.stderr  # relative to the stack file, not the cwd
