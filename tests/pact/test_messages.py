"""Message pacts: what a tap on a real Redis captured, written as V4 Asynchronous/Messages, then
verified against the publisher — state set, trigger run, the message awaited on the broker's tap."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from pacthelpers import pact_cli

from stackrig.pact import load_pact, record_messages
from stackrig.run import control_call

pytestmark = pytest.mark.slow


@pytest.fixture
def order_pact(users_project: Path, users_rig: Any) -> Any:
    """A consumer test's view: user 1 exists, an order is placed, the tap sees `orders:created`."""
    users_rig.sql("db").execute("INSERT INTO users (id, name, email) VALUES (1, 'Alice', 'alice@example.com')")
    tap = users_rig.events("cache", "orders:*")
    try:
        httpx.post(users_rig["users"].url + "/orders", json={"user_id": 1, "total_cents": 1500}).raise_for_status()
        tap.wait_for("orders:created", match={"total_cents": 1500})
        path = record_messages(users_project / "pacts" / "billing-users.json", tap.events, consumer="billing",
                               provider="users", describe=lambda e: "an order created event",
                               states=["user 1 exists"])
    finally:
        users_rig.close_taps()
        control_call(users_rig.record.control, {"op": "reset"})
    return path


def _verify(project: Path, pact: Path, *extra: str) -> Any:
    return pact_cli("pact", "verify", str(pact), "--provider", "users", "--states", "provider/states.py", *extra,
                    cwd=project)


def test_captured_events_become_a_v4_message_pact(order_pact: Path) -> None:
    doc = json.loads(order_pact.read_text())
    assert doc["metadata"]["pactSpecification"] == {"version": "4.0"}
    (message,) = doc["interactions"]
    assert message["type"] == "Asynchronous/Messages"
    assert message["contents"] == {"content": {"id": message["contents"]["content"]["id"], "status": "created",
                                               "total_cents": 1500, "user_id": 1},
                                   "contentType": "application/json", "encoded": False}
    assert message["metadata"] == {"contentType": "application/json", "subject": "orders:created"}
    assert message["providerStates"] == [{"name": "user 1 exists"}]
    assert message["matchingRules"] == {"body": {"$": {"combine": "AND", "matchers": [{"match": "type"}]}}}
    assert load_pact(order_pact).messages[0].description == "an order created event"


def test_the_publisher_is_verified_on_the_broker(users_project: Path, order_pact: Path) -> None:
    done = _verify(users_project, order_pact, "--broker", "cache")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "  ok    billing -> users: an order created event (given user 1 exists)" in done.stdout


def test_a_message_that_differs_or_never_comes(users_project: Path, order_pact: Path, tmp_path: Path) -> None:
    doc = json.loads(order_pact.read_text())
    good = doc["interactions"][0]
    paid = {**good, "matchingRules": {}, "contents": {**good["contents"], "content": {
        **good["contents"]["content"], "status": "paid"}}}
    doc["interactions"] = [{**good, "description": "a silent order"}, paid]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    done = _verify(users_project, bad, "--broker", "cache", "--message-timeout", "0.5")
    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    assert "  FAIL  billing -> users: a silent order (given user 1 exists)" in out
    assert "message: no message on 'orders:created' within 0.5 s after the trigger of 'a silent order'" in out
    assert "  FAIL  billing -> users: an order created event (given user 1 exists)" in out
    assert "none matching the pact; the closest (orders:created): $.status: expected 'paid', found 'created'" in out
    assert 'body $.status: expected "paid", found "created"' in out


def test_message_errors_exit_2(users_project: Path, order_pact: Path, tmp_path: Path) -> None:
    doc = json.loads(order_pact.read_text())
    doc["interactions"][0]["description"] = "who publishes this"
    unknown = tmp_path / "unknown.json"
    unknown.write_text(json.dumps(doc))
    done = _verify(users_project, unknown, "--broker", "cache")
    assert done.returncode == 2
    assert f"error: no trigger for the message 'who publishes this' (in {unknown}); registered triggers:" in done.stderr
    assert "  - an order created event  ->  order_created (states.py:" in done.stderr
    no_broker = _verify(users_project, order_pact)
    assert no_broker.returncode == 2
    assert "has message interactions ('an order created event'); checking them needs the broker" in no_broker.stderr
    assert "fix: pass --broker SERVICE" in no_broker.stderr


def test_recording_the_same_events_again_changes_nothing(order_pact: Path) -> None:
    before = order_pact.read_bytes()
    doc = json.loads(before)
    message = doc["interactions"][0]

    class Event:
        subject = message["metadata"]["subject"]
        raw = json.dumps(message["contents"]["content"]).encode()
        headers: dict[str, str] = {}

    record_messages(order_pact, [Event(), Event()], consumer="billing", provider="users",
                    describe=lambda e: "an order created event", states=["user 1 exists"])
    assert order_pact.read_bytes() == before
