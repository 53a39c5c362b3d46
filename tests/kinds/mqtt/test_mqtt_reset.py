"""The per-test reset of an mqtt service: retained messages back to the baseline, in place, the
application keeping its connections; cheap when nothing changed; dirty when it cannot finish;
under pytest-xdist a broker per worker."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from mqtt_support import PROGRAMS, Running, retained_now, stop_client, wait_until

from stackrig import IsolationError
from stackrig.kinds.mqtt import RetainedReset
from stackrig.kinds.mqtt._events import target_of
from stackrig.kinds.mqtt._wire import WireClient
from stackrig.rig import Rig


@pytest.fixture
def reset(running: Running, bus: Rig) -> Iterator[RetainedReset]:
    r = RetainedReset(target_of(running.rig["devices"]), keep=[], timeout=5)
    yield r
    r.close()


def test_a_test_that_left_nothing_costs_about_a_millisecond(running: Running, reset: RetainedReset) -> None:
    for _ in range(5):
        reset.after("warm-up")
    times = []
    for _ in range(50):
        start = time.perf_counter()
        reset.after("t")
        times.append(time.perf_counter() - start)
    median_ms = statistics.median(times) * 1000
    # a bound, not a benchmark (benchmarks/broker_mqtt.py measures): one round trip on mosquitto,
    # one round trip and a reconnect on amqtt (a Python broker)
    assert median_ms < (2 if running.broker == "mosquitto" else 10), f"{median_ms:.2f} ms"
    assert reset.cleared == 0


def test_retained_messages_of_the_test_and_of_other_processes_are_cleared(running: Running, bus: Rig,
                                                                          reset: RetainedReset) -> None:
    url = bus["devices"].direct_url
    bus.publish("devices", "state/test", {"from": "test"}, retain=True)
    done = subprocess.run([sys.executable, str(PROGRAMS / "publisher.py"), url, "state/proc/{i}", "3", "--retain"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    app = running.client()
    app.publish("state/app", b"on", qos=2, retain=True).wait_for_publish(5)
    stop_client(app)
    assert wait_until(lambda: len(retained_now(url, running.v5)) == 5)
    reset.after("test_x")
    assert retained_now(url, running.v5) == {}
    assert reset.cleared == 5 and not reset.still_dirty()
    tap = bus.events("devices", "#", retained=True)
    tap.expect_none(during=0.2)


def test_the_baseline_is_put_back(running: Running, bus: Rig) -> None:
    url = bus["devices"].direct_url
    v5 = running.v5
    headers = {"content-type": "application/vnd.status"} if v5 else None
    bus.publish("devices", "status/app", {"up": True}, headers, retain=True, qos=1)  # the app's state at start
    bus.publish("devices", "status/db", "ready", retain=True, qos=2)
    reset = RetainedReset(target_of(bus["devices"]), keep=[], timeout=5)
    try:
        assert set(reset.baseline) == {"status/app", "status/db"}
        assert (reset.baseline["status/app"].qos, reset.baseline["status/db"].qos) == (1, 2)
        bus.publish("devices", "status/app", {"up": False}, retain=True)  # the test changes one,
        bus.publish("devices", "status/db", b"", retain=True)  # clears one, adds one
        bus.publish("devices", "status/new", "x", retain=True)
        reset.after("test_y")
        assert retained_now(url, v5) == {"status/app": b'{"up":true}', "status/db": b"ready"}
        tap = bus.events("devices", "status/#", retained=True, qos=2)
        first = {e.subject: e for e in [tap.wait_for("status/app"), tap.wait_for("status/db")]}
        if v5:  # its properties and QoS came back too
            assert first["status/app"].headers["content-type"] == "application/vnd.status"
            assert (first["status/app"].meta["qos"], first["status/db"].meta["qos"]) == (1, 2)
        reset.after("test_z")  # nothing changed: nothing is published
        assert reset.cleared == 3
    finally:
        reset.close()


def test_a_baseline_message_with_an_expiry_is_left_alone(running: Running, bus: Rig) -> None:
    if not running.v5:
        pytest.skip("message expiry is MQTT 5")
    bus.publish("devices", "exp/x", "v", retain=True, message_expiry=600)
    reset = RetainedReset(target_of(bus["devices"]), keep=[], timeout=5)
    try:
        time.sleep(1.1)  # the broker now reports 599 s left: still the baseline message
        reset.after("t")
        assert reset.cleared == 0
    finally:
        reset.close()


def test_keep_retained_topics_are_never_touched(running: Running, bus: Rig) -> None:
    reset = RetainedReset(target_of(bus["devices"]), keep=["devices/+/online"], timeout=5)
    try:
        bus.publish("devices", "devices/7/online", "yes", retain=True)
        bus.publish("devices", "devices/7/temp", "21", retain=True)
        reset.after("t")
        assert retained_now(bus["devices"].direct_url, running.v5) == {"devices/7/online": b"yes"}
    finally:
        reset.close()


def test_the_application_keeps_its_connection_and_subscription(running: Running, bus: Rig,
                                                              reset: RetainedReset) -> None:
    app = running.client(subscribe=[("cmd/#", 1)])
    lost = threading.Event()
    app.on_disconnect = lambda *a: lost.set()
    try:
        bus.publish("devices", "cmd/left", "x", retain=True)
        assert wait_until(lambda: len(app.received) == 1)
        reset.after("t1")
        bus.publish("devices", "cmd/next", "after the reset")
        assert wait_until(lambda: any(m.topic == "cmd/next" for m in app.received))
        assert not lost.is_set() and app.is_connected()
        # clearing a retained message is a publish: the subscriber saw an empty message on that topic
        assert [(m.topic, m.payload) for m in app.received] == [("cmd/left", b"x"), ("cmd/left", b""),
                                                                ("cmd/next", b"after the reset")]
    finally:
        stop_client(app)


def test_a_reset_that_cannot_finish_is_dirty(running: Running, bus: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    reset = RetainedReset(target_of(bus["devices"]), keep=[], timeout=0.5)
    try:
        bus.publish("devices", "sticky/state", b"mine", retain=True)
        sent: list[list[str]] = []
        # the clears never take effect: as when an ACL denies them, or something publishes them again
        monkeypatch.setattr(WireClient, "publish", lambda self, msgs, retain=True: sent.append([m.topic for m in msgs]))
        with pytest.raises(IsolationError) as info:
            reset.after("test_sticky")
        text = str(info.value)
        assert text.startswith("service 'devices': after test_sticky, retained messages are still off the baseline "
                               "0.5 s later: sticky/state (something keeps publishing them)")
        assert "fix: if the application itself owns these retained topics, list them in keep_retained" in text
        assert reset.still_dirty()
        assert len(sent) >= 2 and sent[0] == ["sticky/state"]  # tried again while it waited
        monkeypatch.undo()
        reset.after("test_next")
        assert not reset.still_dirty()
    finally:
        reset.close()


def test_the_reset_follows_a_broker_restart(running: Running, bus: Rig) -> None:
    bus.publish("devices", "base/x", "1", retain=True)
    reset = RetainedReset(target_of(bus["devices"]), keep=[], timeout=5)
    try:
        reset.after("t0")
        bus["devices"].restart()  # no persistence: the retained baseline went with it
        bus.forget_clients("devices")
        reset.after("t1")  # its connection is made again, the baseline published again
        assert retained_now(bus["devices"].direct_url, running.v5) == {"base/x": b"1"}
        bus["devices"].stop()
        with pytest.raises(IsolationError) as info:
            reset.after("t2")
        assert "the per-test reset cannot read the broker's retained messages at mqtt://127.0.0.1:" in str(info.value)
        assert reset.still_dirty()
    finally:
        if not bus["devices"].running:
            bus["devices"].start()
        bus.forget_clients("devices")
        reset.close()


def test_nothing_of_the_reset_or_the_taps_stays_subscribed(running: Running, bus: Rig,
                                                           reset: RetainedReset) -> None:
    """A client connecting after resets and taps gets no message it did not subscribe to (amqtt sends
    a new connection the retained messages of every filter it still knows)."""
    bus.publish("devices", "any/where", "r", retain=True)
    tap = bus.events("devices", "#", retained=True)
    tap.wait_for("any/where")
    bus.close_taps()
    reset.baseline = dict(reset.baseline)
    for _ in range(3):
        reset._scan()
        reset._done()
    time.sleep(0.05)
    got: list[bytes] = []
    with WireClient("127.0.0.1", bus["devices"].port) as client:
        assert client.sock is not None
        client.sock.settimeout(0.3)
        try:
            got.append(client.sock.recv(100))
        except TimeoutError:
            pass
    assert got == []


# -- through the pytest plugin ---------------------------------------------------------------
LEAK_TESTS = """
def test_a_publishes_state(rig):
    rig.publish("devices", "leak/a", {"by": "a"}, retain=True)

def test_b_sees_no_state(rig):
    tap = rig.events("devices", "leak/#", retained=True)
    tap.expect_none(during=0.3)
    rig.publish("devices", "leak/b", {"by": "b"}, retain=True)

def test_c_sees_no_state(rig):
    tap = rig.events("devices", "leak/#", retained=True)
    tap.expect_none(during=0.3)
"""


@pytest.mark.slow
@pytest.mark.parametrize("broker", ["mosquitto", "amqtt"])
@pytest.mark.parametrize("isolation", ["retained", "none"])
def test_no_retained_message_leaks_into_the_next_test(pytester: pytest.Pytester, broker: str,
                                                      isolation: str) -> None:
    pytester.makefile(".toml", stackrig=f'[services.devices]\nkind = "mqtt"\nbroker = "{broker}"\n'
                                        f'isolation = "{isolation}"\n')
    pytester.makepyfile(LEAK_TESTS)
    result = pytester.runpytest("-p", "no:randomly", "-p", "no:playwright")
    if isolation == "retained":
        result.assert_outcomes(passed=3)
    else:
        result.assert_outcomes(passed=1, failed=2)  # the control: without the reset they leak


DIRTY_TESTS = """
from stackrig.kinds.mqtt._wire import WireClient

def test_leaves_state_the_reset_cannot_clear(rig):
    rig.publish("devices", "sticky", b"x", retain=True)
    WireClient.publish = lambda self, msgs, retain=True: None  # the broker ignores the clears (an ACL, ...)

def test_next(rig):
    pass
"""


@pytest.mark.slow
def test_a_dirty_broker_errors_the_next_test(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", stackrig='[services.devices]\nkind = "mqtt"\nreset_timeout = 0.3\n')
    pytester.makepyfile(DIRTY_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:randomly")  # its patch must not outlive it
    # the first passes and its teardown errors; the second is errored at setup (and its reset fails again)
    result.assert_outcomes(passed=1, errors=3)
    text = result.stdout.str()
    assert "service 'devices': after test_" in text and "retained messages are still off the baseline" in text
    assert "not running" in text and "service 'devices' could not be put back to its baseline" in text


XDIST_TESTS = """
import json, os, pathlib
import pytest

@pytest.mark.parametrize("i", range(6))
def test_worker(rig, i):
    me = os.environ.get("PYTEST_XDIST_WORKER", "main")
    tap = rig.events("devices", "owner/#", retained=True)
    tap.expect_none(during=0.05)  # no other worker's retained message, none of an earlier test
    live = rig.events("devices", "live/#")
    rig.publish("devices", f"owner/{me}", me, retain=True)
    rig.publish("devices", f"live/{me}/{i}", {"me": me})
    live.wait_for(f"live/{me}/{i}")
    pathlib.Path(f"out-{me}-{i}.json").write_text(json.dumps({
        "port": rig["devices"].port, "seen": sorted({e.body["me"] for e in live.events})}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("broker", ["mosquitto", "amqtt"])
def test_each_xdist_worker_has_its_own_broker(pytester: pytest.Pytester, broker: str) -> None:
    pytester.makefile(".toml", stackrig=f'[services.devices]\nkind = "mqtt"\nbroker = "{broker}"\n')
    pytester.makepyfile(XDIST_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-n", "2")
    result.assert_outcomes(passed=6)
    outs = {p.name: json.loads(p.read_text()) for p in Path(pytester.path).glob("out-*.json")}
    workers = {name.split("-")[1] for name in outs}
    assert workers == {"gw0", "gw1"}
    ports = {w: {o["port"] for n, o in outs.items() if n.split("-")[1] == w} for w in workers}
    assert all(len(p) == 1 for p in ports.values()) and ports["gw0"] != ports["gw1"]
    for name, out in outs.items():
        assert out["seen"] == [name.split("-")[1]]  # no worker saw another's events
