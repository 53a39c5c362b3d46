"""Taps and publishing on mosquitto and amqtt: capture from the moment a tap is made, copies only,
retained messages, headers, options and their errors, other processes as publishers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from mqtt_support import PROGRAMS, Running, paho_client, stop_client, wait_until, write_stack

from stackrig import Stack, StackrigError
from stackrig.events import TapError
from stackrig.rig import Rig


def test_a_tap_captures_from_the_moment_it_is_made(running: Running, bus: Rig) -> None:
    bus.publish("devices", "orders/1", {"n": 1})
    tap = bus.events("devices", "orders/#")
    bus.publish("devices", "orders/2", {"n": 2})
    assert tap.wait_for("orders/2").body == {"n": 2}
    tap.expect_none("orders/1", during=0.2)
    assert [e.subject for e in tap.events] == ["orders/2"]
    assert "subscription 'orders/#'" in repr(tap)


def test_the_applications_subscribers_still_get_everything(running: Running, bus: Rig) -> None:
    app = running.client(subscribe=[("orders/#", 1)])
    try:
        tap = bus.events("devices", "orders/#")
        for i in range(20):
            bus.publish("devices", f"orders/{i}", {"i": i})
        assert wait_until(lambda: tap.count() == 20 and len(app.received) == 20)
        assert sorted(json.loads(m.payload)["i"] for m in app.received) == list(range(20))
        assert [e.body["i"] for e in tap.events] == list(range(20))  # in order
    finally:
        stop_client(app)


def test_a_shared_subscription_group_still_gets_everything(running: Running, bus: Rig) -> None:
    if running.broker == "amqtt":
        pytest.skip("amqtt has no shared subscriptions (MQTT 5)")
    workers = [running.client(subscribe=[("$share/workers/jobs/#", 1)]) for _ in range(2)]
    try:
        tap = bus.events("devices", "jobs/#")
        for i in range(30):
            bus.publish("devices", f"jobs/{i}", {"i": i})
        assert wait_until(lambda: tap.count() == 30 and sum(len(w.received) for w in workers) == 30)
        got = sorted(json.loads(m.payload)["i"] for w in workers for m in w.received)
        assert got == list(range(30))  # the tap is no member of the group: it took none away
    finally:
        for w in workers:
            stop_client(w)


def test_a_tap_on_a_shared_subscription_is_refused(running: Running, bus: Rig) -> None:
    with pytest.raises(StackrigError) as info:
        bus.events("devices", "$share/workers/jobs/#")
    assert str(info.value) == (
        "rig.events('devices', '$share/workers/jobs/#'): a tap never uses a shared subscription — it would take "
        "messages away from the application's subscribers in the same group\n  fix: tap the plain filter: 'jobs/#'")


@pytest.mark.parametrize(("pattern", "yes", "no"), [
    ("a/+/c", ["a/b/c", "a/x/c"], ["a/b/d", "a/b/c/d", "a/c"]),
    ("a/#", ["a", "a/b", "a/b/c"], ["b/a", "ab"]),
    ("+", ["top"], ["a/b"]),
])
def test_wildcards_are_mqtt_topic_filters(running: Running, bus: Rig, pattern: str, yes: list[str],
                                          no: list[str]) -> None:
    tap = bus.events("devices", pattern)
    marker = bus.events("devices", "zz/done")
    for topic in no + yes:
        bus.publish("devices", topic, {"t": topic}, qos=0)
    bus.publish("devices", "zz/done", "x")
    marker.wait_for("zz/done")
    assert wait_until(lambda: tap.count() == len(yes), 5)
    time.sleep(0.05)
    assert sorted(e.subject for e in tap.events) == sorted(yes)
    if "+" in pattern:
        assert tap.wait_for(pattern).subject in yes  # waits take the same wildcards


def test_retained_messages_are_not_events_unless_asked_for(running: Running, bus: Rig) -> None:
    bus.publish("devices", "config/a", {"v": 1}, retain=True)
    plain = bus.events("devices", "config/#")
    with_retained = bus.events("devices", "config/#", retained=True)
    ev = with_retained.wait_for("config/a")
    assert ev.body == {"v": 1} and ev.meta["retained"] is True and ev.meta["retain"] is True
    plain.expect_none(during=0.2)
    bus.publish("devices", "config/a", {"v": 2}, retain=True)  # a live retained publish is an event
    live = plain.wait_for("config/a")
    assert live.body == {"v": 2} and live.meta["retained"] is False
    assert with_retained.wait_for("config/a").meta["retained"] is False
    assert with_retained.count("config/a") == 2


def test_a_retained_tap_sees_only_its_filter_once(running: Running, bus: Rig) -> None:
    """amqtt sends a new connection the retained messages of every filter anyone subscribed to:
    none of those reach a tap unless they are its own (once)."""
    for topic in ("x/1", "y/1", "x/2"):
        bus.publish("devices", topic, topic, retain=True)
    other = bus.events("devices", "#")  # makes amqtt know the filter '#'
    tap = bus.events("devices", "x/#", retained=True)
    assert wait_until(lambda: tap.count() >= 2)
    time.sleep(0.2)
    assert sorted(e.subject for e in tap.events) == ["x/1", "x/2"]
    other.close()


def test_headers_content_type_and_properties(running: Running, bus: Rig) -> None:
    tap = bus.events("devices", "h/#")
    if not running.v5:
        with pytest.raises(StackrigError) as info:
            bus.publish("devices", "h/1", {"a": 1}, {"trace-id": "t1"})
        assert str(info.value) == (
            "rig.publish('devices', 'h/1'): headers and MQTT 5 options (trace-id) need MQTT 5, but this broker "
            "(amqtt) speaks MQTT 3.1.1 only\n"
            "  fix: put the data in the body, or use mosquitto (broker = \"mosquitto\")")
        bus.publish("devices", "h/1", {"a": 1})
        ev = tap.wait_for("h/1")
        assert dict(ev.headers) == {} and ev.body == {"a": 1}  # MQTT 3.1.1 has no properties
        return
    bus.publish("devices", "h/1", {"a": 1}, {"trace-id": "t1", "tenant": "acme"})
    ev = tap.wait_for("h/1")
    assert ev.headers["content-type"] == "application/json"
    assert ev.headers["Trace-Id"] == "t1" and ev.headers["tenant"] == "acme"  # looked up without case
    bus.publish("devices", "h/2", b"\x00\x01")
    assert tap.wait_for("h/2").headers["content-type"] == "application/octet-stream"
    bus.publish("devices", "h/3", "plain")
    assert tap.wait_for("h/3").headers["content-type"] == "text/plain; charset=utf-8"
    bus.publish("devices", "h/4", {"x": 1}, {"Content-Type": "application/vnd.acme+json"})
    assert tap.wait_for("h/4").headers["content-type"] == "application/vnd.acme+json"
    bus.publish("devices", "h/5", {"q": 1}, response_topic="h/reply", correlation_data="c-42", message_expiry=60)
    ev = tap.wait_for("h/5")
    assert ev.meta["response_topic"] == "h/reply" and ev.meta["correlation_data"] == b"c-42"
    assert 0 < ev.meta["message_expiry"] <= 60


def test_headers_of_an_application_publisher(running: Running, bus: Rig) -> None:
    if not running.v5:
        pytest.skip("MQTT 5 user properties: mosquitto")
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    app = running.client()
    try:
        tap = bus.events("devices", "app/out")
        props = Properties(PacketTypes.PUBLISH)
        props.UserProperty = [("source", "app")]
        props.ContentType = "application/cbor"
        app.publish("app/out", b"\xa1", qos=1, properties=props).wait_for_publish(5)
        ev = tap.wait_for("app/out")
        assert ev.headers == {"source": "app", "content-type": "application/cbor"}
        assert ev.body == b"\xa1"
    finally:
        stop_client(app)


@pytest.mark.parametrize("qos", [0, 1, 2])
def test_publish_qos_reaches_the_tap(running: Running, bus: Rig, qos: int) -> None:
    tap = bus.events("devices", "q/#")
    bus.publish("devices", f"q/{qos}", {"qos": qos}, qos=qos)
    ev = tap.wait_for(f"q/{qos}")
    # mosquitto delivers at the published QoS (the tap subscribes at 2); amqtt at the subscription's (0)
    assert ev.meta["qos"] == (qos if running.v5 else 0)
    tap2 = bus.events("devices", "q/#", qos=1)
    bus.publish("devices", "q/x", {}, qos=2)
    assert tap2.wait_for("q/x").meta["qos"] == 1


@pytest.mark.parametrize(("call", "message"), [
    (lambda r: r.publish("devices", "t", 1, qos=3), "rig.publish('devices', 't'): qos=3: expected 0, 1 or 2"),
    (lambda r: r.publish("devices", "t", 1, retain="yes"),
     "rig.publish('devices', 't'): retain='yes': expected True or False"),
    (lambda r: r.publish("devices", "t", 1, exchange="x"),
     "rig.publish('devices', 't'): unknown option exchange; an mqtt service accepts qos, retain, timeout, "
     "response_topic, correlation_data, message_expiry"),
    (lambda r: r.publish("devices", "a/+", 1),
     "rig.publish('devices', 'a/+'): a topic name must be a non-empty string without wildcards ('+', '#')"),
    (lambda r: r.publish("devices", "", 1),
     "rig.publish('devices', ''): a topic name must be a non-empty string without wildcards ('+', '#')"),
    (lambda r: r.publish("devices", "$SYS/x", 1),
     "rig.publish('devices', '$SYS/x'): topics starting with '$' belong to the broker ($SYS); clients may not "
     "publish to them"),
    (lambda r: r.events("devices", "a/#/b"),
     "rig.events('devices', 'a/#/b'): not a valid MQTT topic filter: '#' must be a whole level and the last one "
     "(e.g. 'devices/#')"),
    (lambda r: r.events("devices", ""), "rig.events('devices', ''): not a valid MQTT topic filter: a topic filter "
     "must not be empty"),
    (lambda r: r.events("devices", "a", stream="s", durable=True),
     "rig.events('devices', 'a'): unknown options durable, stream; an mqtt service accepts retained, qos, limit, "
     "reconnect_window"),
    (lambda r: r.events("devices", "a", retained="no"), "rig.events('devices', 'a'): retained='no': expected True "
     "or False"),
    (lambda r: r.events("devices", "a", qos=True), "rig.events('devices', 'a'): qos=True: expected 0, 1 or 2"),
    (lambda r: r.events("devices", "a", limit=0), "tap option limit=0: expected a positive integer"),
    (lambda r: r.events("devices", "a", reconnect_window=-1),
     "rig.events('devices', 'a'): reconnect_window=-1: expected seconds (a number >= 0)"),
])
def test_option_errors(running: Running, bus: Rig, call: Any, message: str) -> None:
    with pytest.raises(StackrigError) as info:
        call(bus)
    assert str(info.value) == message


def test_tap_limit_keeps_the_newest(running: Running, bus: Rig) -> None:
    tap = bus.events("devices", "l/#", limit=5)
    for i in range(20):
        bus.publish("devices", f"l/{i}", {"i": i}, qos=0)
    assert wait_until(lambda: tap.dropped == 15)
    assert [e.body["i"] for e in tap.events] == list(range(15, 20))


def test_a_subscriber_error_reaches_the_test(running: Running, bus: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    from stackrig.kinds.mqtt import _events

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ValueError("cannot decode this")

    tap = bus.events("devices", "err/#")
    monkeypatch.setattr(_events, "Event", broken)
    bus.publish("devices", "err/1", {})
    with pytest.raises(TapError) as info:
        tap.wait_for("err/1", timeout=5)
    assert "the tap on 'devices' (err/#) stopped receiving: cannot decode this" in str(info.value)
    assert isinstance(info.value.__cause__, ValueError)


def test_closing_taps_ends_their_connections(running: Running, bus: Rig) -> None:
    threads = threading.active_count()
    taps = [bus.events("devices", f"c/{i}") for i in range(5)]
    assert threading.active_count() >= threads + 5  # one network thread each
    start = time.monotonic()
    bus.close_taps()
    assert time.monotonic() - start < 2
    assert wait_until(lambda: threading.active_count() <= threads, 5)
    bus.publish("devices", "c/1", "after close")
    time.sleep(0.1)
    assert all(t.count() == 0 for t in taps)


def test_publishers_in_other_processes(running: Running, bus: Rig) -> None:
    url = bus["devices"].direct_url
    tap = bus.events("devices", "sensors/#")
    done = subprocess.run([sys.executable, str(PROGRAMS / "publisher.py"), url, "sensors/py/{i}", "5"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    events = [tap.wait_for(f"sensors/py/{i}") for i in range(5)]
    assert {e.body["pid"] for e in events} != {os.getpid()} and [e.body["seq"] for e in events] == list(range(5))
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    port = str(bus["devices"].port)
    done = subprocess.run([node, str(PROGRAMS / "publisher.mjs"), "127.0.0.1", port, "sensors/node", "hi"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert tap.wait_for("sensors/node", match={"from": "node", "message": "hi"}).body["pid"] != os.getpid()


def test_wait_for_names_what_the_tap_saw(running: Running, bus: Rig) -> None:
    tap = bus.events("devices", "w/#")
    bus.publish("devices", "w/1", {"status": "ok"})
    tap.wait_for("w/1")
    with pytest.raises(AssertionError) as info:
        tap.wait_for("w/1", match={"status": "failed"}, timeout=0.2)
    text = str(info.value)
    assert "no event with subject 'w/1' and body containing {'status': 'failed'} on the tap on 'devices'" in text
    assert "body.status: expected 'failed', found 'ok'" in text


# -- the broker going away ---------------------------------------------------------------------
def test_a_tap_survives_a_restart_of_the_broker(running: Running, bus: Rig) -> None:
    tap = bus.events("devices", "r/#", reconnect_window=20)
    bus["devices"].restart()
    assert wait_until(lambda: "reconnected 1x" in tap.where, 20), tap.where
    bus.publish("devices", "r/after", {"back": True})
    assert tap.wait_for("r/after").body == {"back": True}
    assert "what was published while it was away was not captured" in repr(tap)


def test_a_tap_fails_when_the_broker_does_not_come_back(running: Running, bus: Rig) -> None:
    tap = bus.events("devices", "gone/#", reconnect_window=0.3)
    bus["devices"].stop()
    try:
        with pytest.raises(TapError) as info:
            tap.wait_for("gone/1", timeout=10)
        assert "broke and the broker was not back within 0.3 s (reconnect_window)" in str(info.value)
    finally:
        bus["devices"].start()
        bus.forget_clients("devices")  # the publisher's connection went with the broker


# -- a publisher as a service of the stack -----------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("broker", ["mosquitto", "amqtt"])
def test_a_process_service_publishing(tmp_path: Path, broker: str) -> None:
    path = write_stack(tmp_path, f"""
        [services.devices]
        kind = "mqtt"
        broker = "{broker}"
        user = "svc"
        password = "pw"

        [services.ticker]
        kind = "process"
        port = false
        depends_on = ["devices"]
        command = ["{sys.executable}", "@PROGRAMS@/publisher.py", "${{devices.url}}", "ticks/{{i}}", "0",
                   "--interval", "0.05", "--qos", "0"]
    """)
    with Stack.load(path) as rig:
        tap = rig.events("devices", "ticks/+")
        first = tap.wait_for("ticks/+", timeout=10)
        later = tap.wait_for("ticks/+", match=lambda e: e.body["seq"] > first.body["seq"], timeout=10)
        assert later.body["pid"] == first.body["pid"] == rig["ticker"].pid
        node = shutil.which("node")
        if node:
            port = str(rig["devices"].port)
            done = subprocess.run([node, str(PROGRAMS / "publisher.mjs"), "127.0.0.1", port, "ticks/node", "n",
                                   "svc", "pw"], capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, done.stderr
            tap.wait_for("ticks/node", match={"from": "node"})
            bad = subprocess.run([node, str(PROGRAMS / "publisher.mjs"), "127.0.0.1", port, "ticks/node", "n",
                                  "svc", "wrong"], capture_output=True, text=True, timeout=60)
            assert bad.returncode == 2 and "CONNACK refused" in bad.stderr


def test_paho_helper_smoke(running: Running) -> None:
    c = paho_client(running.rig["devices"].direct_url, v5=running.v5)
    stop_client(c)
