"""Taps and publishing on a real nats-server: capture from the moment a tap is made, NATS wildcards,
headers and meta, copies that take nothing from the application, publishers in other processes
(Python and Node.js), JetStream publishes, errors that reach the test, and a stack another process runs."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import run_cli, wait_until
from nats_helpers import NATS_PROGRAMS, get_json

from stackrig import StackrigError
from stackrig.events import EventNotSeen, TapError, UnexpectedEvent
from stackrig.kinds.nats._events import NatsEvents
from stackrig.rig import Rig

BUS = """
[services.events]
kind = "nats"
jetstream = true
streams = [{ name = "ORDERS", subjects = ["orders.>"] }]
consumers = [{ stream = "ORDERS", durable = "mailer", filter_subject = "orders.created" },
             { stream = "ORDERS", durable = "audit", deliver_subject = "audit.orders", ack_policy = "none" }]
"""

APP = BUS + """
[services.app]
kind = "process"
command = ["@PY@", "@NATS_PROGRAMS@/app.py"]
depends_on = ["events"]
env = { CORE_SUBJECT = "orders.>", QUEUE_SUBJECT = "orders.>", DURABLE = "mailer", STREAM = "ORDERS" }
ready = { http = "/health" }
"""


def seen(rig: Rig) -> dict[str, Any]:
    return dict(get_json(rig["app"].url + "/seen"))


def test_a_tap_captures_from_the_moment_it_is_made(up: Callable[[str], Rig]) -> None:
    rig = up(BUS)
    rig.publish("events", "orders.created", {"id": 0, "total_cents": 1500})  # before the tap: not seen
    tap = rig.events("events", "orders.>")
    one = rig.events("events", "orders.*.eu")
    rig.publish("events", "orders.created", {"id": 1, "total_cents": 900})
    rig.publish("events", "orders.created", {"id": 2, "total_cents": 1500}, headers={"x-trace": "t-2"})
    rig.publish("events", "orders.paid.eu", {"id": 2})
    rig.publish("events", "payments.failed", {"id": 2})  # not on the pattern
    ev = tap.wait_for("orders.created", match={"total_cents": 1500}, timeout=5)
    assert ev.body == {"id": 2, "total_cents": 1500}
    assert ev.headers["content-type"] == "application/json" and ev.headers["X-Trace"] == "t-2"
    assert ev.meta == {"reply": None, "stream": "ORDERS"}
    assert tap.wait_for("orders.*.eu").subject == "orders.paid.eu"
    assert tap.wait_for("orders.>", match={"id": 1}).body["total_cents"] == 900
    tap.expect_none("orders.cancelled", during=0.2)
    tap.expect_none("payments.>", during=0.01)
    assert [e.body["id"] for e in tap.events] == [1, 2, 2]
    assert one.wait_for().subject == "orders.paid.eu" and one.count() == 1
    with pytest.raises(UnexpectedEvent) as info:
        tap.expect_none("orders.paid.*", during=0.01)
    assert "an event with subject 'orders.paid.*' arrived on the tap on 'events' (orders.>, core NATS " \
           "subscription)" in str(info.value)
    with pytest.raises(EventNotSeen) as not_seen:
        tap.wait_for("orders.created", match={"id": 0}, timeout=0.2)
    text = str(not_seen.value)
    assert "no event with subject 'orders.created' and body containing {'id': 0} on the tap on 'events' " \
           "(orders.>, core NATS subscription) within 0.2 s; it saw 3, the closest first:" in text
    assert "body.id: expected 0, found 1" in text


def test_what_publish_sends(up: Callable[[str], Rig]) -> None:
    rig = up(BUS)
    tap = rig.events("events", "t.>")
    rig.publish("events", "t.dict", {"a": 1})
    rig.publish("events", "t.list", [1, 2])
    rig.publish("events", "t.text", "plain words")
    rig.publish("events", "t.bytes", b"\x00\x01")
    rig.publish("events", "t.typed", "<a/>", headers={"Content-Type": "application/xml"})
    rig.publish("events", "t.reply", {"q": 1}, reply="t.answers.7")
    got = {e.subject: e for e in (tap.wait_for(f"t.{k}") for k in ("dict", "list", "text", "bytes", "typed",
                                                                   "reply"))}
    assert got["t.dict"].body == {"a": 1} and got["t.dict"].headers["content-type"] == "application/json"
    assert got["t.list"].body == [1, 2] and got["t.list"].headers["content-type"] == "application/json"
    assert got["t.text"].text == "plain words"
    assert got["t.text"].headers["content-type"] == "text/plain; charset=utf-8"
    assert got["t.bytes"].raw == b"\x00\x01"
    assert got["t.bytes"].headers["content-type"] == "application/octet-stream"
    assert dict(got["t.typed"].headers) == {"Content-Type": "application/xml"}  # the caller's wins
    assert got["t.reply"].meta["reply"] == "t.answers.7"


def test_jetstream_publishes(up: Callable[[str], Rig]) -> None:
    rig = up(BUS)
    js = rig.client("events", "jetstream")
    rig.publish("events", "orders.created", {"id": 1}, jetstream=True, msg_id="order-1")
    rig.publish("events", "orders.created", {"id": 1}, jetstream=True, msg_id="order-1")  # de-duplicated
    assert js.stream_info("ORDERS")["state"]["messages"] == 1
    with pytest.raises(StackrigError) as info:
        rig.publish("events", "payments.failed", {"id": 1}, jetstream=True)
    assert "rig.publish('events', 'payments.failed'), jetstream=True: no stream takes subject 'payments.failed'" \
        in str(info.value)
    assert "fix: declare a stream whose subjects match 'payments.failed' in [services.events] `streams`" \
        in str(info.value)
    with pytest.raises(StackrigError) as info:
        rig.publish("events", "orders.created", {"id": 2}, jetstream=True, expect_stream="PAYMENTS")
    assert "rig.publish('events', 'orders.created'), jetstream=True: JetStream refused the message: expected " \
           "stream does not match (err_code 10060)" in str(info.value)


def test_jetstream_deliveries_say_their_stream_and_sequence(up: Callable[[str], Rig]) -> None:
    rig = up(BUS)
    # the push consumer 'audit' delivers there; nats-server sees interest in a deliver subject only from
    # a subscription to that very subject (not from a wildcard such as audit.>)
    tap = rig.events("events", "audit.orders")
    rig.publish("events", "orders.created", {"id": 1}, jetstream=True)
    rig.publish("events", "orders.paid", {"id": 1}, jetstream=True)
    first = tap.wait_for(timeout=5)
    second = tap.wait_for(timeout=5)
    assert first.subject == "orders.created" and first.body == {"id": 1}  # a delivery keeps its own subject
    assert {k: first.meta[k] for k in ("stream", "consumer", "stream_seq", "consumer_seq", "delivered")} == {
        "stream": "ORDERS", "consumer": "audit", "stream_seq": 1, "consumer_seq": 1, "delivered": 1}
    assert second.meta["stream_seq"] == 2 and second.meta["pending"] == 0
    assert abs(first.meta["published"] - time.time()) < 60


def test_bad_patterns_and_options_are_refused(up: Callable[[str], Rig]) -> None:
    rig = up(BUS)
    cases: list[tuple[Callable[[], object], str]] = [
        (lambda: rig.events("events", "orders.>.x"),
         "rig.events('events', 'orders.>.x'): the pattern 'orders.>.x' is not a valid NATS subject: "
         "'>' may only be the last token"),
        (lambda: rig.events("events", "orders.>", queue="workers"),
         "rig.events('events', 'orders.>'): unknown option queue; a NATS tap takes: limit"),
        (lambda: rig.events("events", "orders.>", limit=0),
         "tap option limit=0: expected a positive integer"),
        (lambda: rig.publish("events", "orders.*", {}),
         "rig.publish('events', 'orders.*'): the subject 'orders.*' is not a valid NATS subject: wildcards"),
        (lambda: rig.publish("events", "orders.x", {}, persist=True),
         "rig.publish('events', 'orders.x'): unknown option persist; a NATS publish takes: jetstream, reply, "
         "msg_id, expect_stream, timeout"),
        (lambda: rig.publish("events", "orders.x", {}, jetstream=True, reply="r"),
         "reply= and jetstream=True do not go together"),
        (lambda: rig.publish("events", "orders.x", b"x" * (1024 * 1024 + 1)),
         "a message of 1048629 bytes (with its headers) is larger than the server's max_payload (1048576 bytes)"),
    ]
    for call, message in cases:
        with pytest.raises(StackrigError) as info:
            call()
        assert message in str(info.value)
    tap = rig.events("events", "orders.>")  # the connection is still good after all that
    rig.publish("events", "orders.ok", {})
    assert tap.wait_for("orders.ok")


def test_a_bounded_tap_keeps_the_newest_and_says_what_it_dropped(up: Callable[[str], Rig]) -> None:
    rig = up(BUS)
    tap = rig.events("events", "n.*", limit=5)
    for i in range(12):
        rig.publish("events", f"n.{i}", {"i": i})
    assert tap.wait_for("n.11").body == {"i": 11}
    assert [e.body["i"] for e in tap.events] == [7, 8, 9, 10, 11] and tap.dropped == 7
    with pytest.raises(EventNotSeen, match="7 older events were dropped: a tap keeps the newest 5"):
        tap.wait_for("n.0", timeout=0.05)


@pytest.mark.slow
def test_a_tap_takes_nothing_from_the_application(up: Callable[[str], Rig]) -> None:
    """The app's queue group, core subscription and durable JetStream consumer all get every
    message while a tap (and a second one) sees them too."""
    rig = up(APP)
    tap = rig.events("events", "orders.>")
    also = rig.events("events", "orders.created")
    for i in range(20):
        rig.publish("events", "orders.created", {"id": i}, jetstream=True)
    assert wait_until(lambda: len(seen(rig)["durable"]) == 20 and len(seen(rig)["queue"]) == 20, 15), seen(rig)
    got = seen(rig)
    assert [json.loads(m["body"])["id"] for m in got["durable"]] == list(range(20))
    assert len(got["core"]) == 20
    assert got["queue"][0]["headers"]["content-type"] == "application/json"
    for t in (tap, also):
        assert wait_until(lambda t=t: t.count("orders.created") == 20, 5)  # type: ignore[misc]
    info = rig.client("events", "jetstream").consumer_info("ORDERS", "mailer")
    assert info["num_pending"] == 0 and info["ack_floor"]["stream_seq"] == 20  # the app acked them all
    # and what the app publishes, the tap sees, with the app's headers
    import urllib.request

    req = urllib.request.Request(rig["app"].url + "/publish?subject=orders.shipped", data=b'{"id": 99}',
                                 method="POST")
    urllib.request.urlopen(req, timeout=5).close()
    shipped = tap.wait_for("orders.shipped")
    assert shipped.body == {"id": 99} and shipped.headers["x-from"] == "app"


@pytest.mark.slow
def test_publishers_in_other_processes(up: Callable[[str], Rig]) -> None:
    rig = up(BUS)
    tap = rig.events("events", "orders.>")
    url = rig["events"].url
    py = subprocess.run([sys.executable, str(NATS_PROGRAMS / "publish.py"), url, "orders.created", "1", "3"],
                        capture_output=True, text=True, timeout=60)
    assert py.returncode == 0, py.stderr
    node = subprocess.run(["node", str(NATS_PROGRAMS / "publish.js"), url, "orders.node", "2"],
                          capture_output=True, text=True, timeout=60)
    assert node.returncode == 0, node.stderr
    for i in (1, 2, 3):
        ev = tap.wait_for("orders.created", match={"id": i})
        assert ev.headers["x-publisher"] == "python" and ev.headers["content-type"] == "application/json"
    for i in (1, 2):
        ev = tap.wait_for("orders.node", match={"id": i, "lang": "node"})
        assert ev.headers["x-publisher"] == "node"
    assert tap.count() == 5


def test_a_subscriber_error_reaches_the_test(up: Callable[[str], Rig], monkeypatch: pytest.MonkeyPatch) -> None:
    rig = up(BUS)
    tap = rig.events("events", "orders.>")
    import stackrig.kinds.nats._events as events_module

    def broken(*args: object) -> object:
        raise ValueError("cannot decode this one")

    monkeypatch.setattr(events_module, "to_event", broken)
    rig.publish("events", "orders.created", {"id": 1})
    with pytest.raises(TapError) as info:
        tap.wait_for("orders.created", timeout=5)
    assert "the tap on 'events' (orders.>) stopped receiving: cannot decode this one" in str(info.value)


@pytest.mark.slow
def test_a_broker_that_comes_back_keeps_the_tap_and_one_that_does_not_fails_it(up: Callable[[str], Rig]) -> None:
    rig = up(BUS)
    client = NatsEvents(rig["events"], reconnect_window=10)
    try:
        tap = client.tap("orders.>")
        client.publish("orders.created", {"id": 1})
        assert tap.wait_for(match={"id": 1})
        rig["events"].restart()  # same port, same store: the tap reconnects and subscribes again
        assert wait_until(lambda: tap.gaps and tap.gaps[-1][1] is not None, 10)  # type: ignore[arg-type]
        client.publish("orders.created", {"id": 2})
        assert tap.wait_for(match={"id": 2}, timeout=5)
        with pytest.raises(EventNotSeen) as info:
            tap.wait_for(match={"id": 3}, timeout=0.05)
        assert "the tap's connection to the server was down from +" in str(info.value)
        assert "what was published meanwhile never reached it" in str(info.value)
    finally:
        client.close()
    short = NatsEvents(rig["events"], reconnect_window=0.5)
    try:
        tap = short.tap("orders.>")
        rig["events"].stop()
        with pytest.raises(TapError) as lost:
            tap.wait_for(timeout=10)
        text = str(lost.value)
        assert "the tap on 'events' (orders.>) stopped receiving: the connection to nats://127.0.0.1:" in text
        assert "could not be opened again within 0.5 s" in text
        with pytest.raises(StackrigError, match="cannot connect to service 'events' at nats://127.0.0.1:"):
            NatsEvents(rig["events"]).tap("x.>")
    finally:
        short.close()
        rig["events"].start()
    assert rig.client("events", "jetstream").stream_info("ORDERS")["config"]["name"] == "ORDERS"  # file store kept


ATTACHED = """
import subprocess, sys

def test_taps_on_a_stack_someone_else_runs(rig):
    tap = rig.events("events", "orders.>")
    done = subprocess.run([sys.executable, "{publish}", rig["events"].url, "orders.created", "1", "2"])
    assert done.returncode == 0
    assert tap.wait_for("orders.created", match={{"id": 2}}).headers["x-publisher"] == "python"
    rig.publish("events", "orders.paid", {{"id": 2}}, jetstream=True)
    assert tap.wait_for("orders.paid").meta["stream"] == "ORDERS"
    with open("run_id.txt", "w") as f:
        f.write(rig.run_id)
"""


@pytest.mark.slow
def test_taps_work_when_the_test_only_attached(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", stackrig=BUS)
    pytester.makepyfile(ATTACHED.format(publish=NATS_PROGRAMS / "publish.py"))
    up = run_cli("up", "-d", cwd=pytester.path)
    assert up.returncode == 0, up.stderr
    try:
        pointer = json.loads((pytester.path / ".stackrig" / "current.json").read_text())
        run_id = json.loads(Path(pointer["state"]).read_text())["run_id"]
        result = pytester.runpytest_subprocess("-p", "no:randomly")
        result.assert_outcomes(passed=1)
        result.stdout.fnmatch_lines(["stackrig: stack * attached to stackrig up (pid *) in * ms"])
        assert (pytester.path / "run_id.txt").read_text() == run_id
    finally:
        run_cli("down", cwd=pytester.path)
