"""Per-test isolation of JetStream: a one-request check when nothing changed, purges that keep
streams and consumers (and the application's connections), what a test created removed, what it
deleted made again; failures that refuse the next test; and pytest-xdist workers on servers of
their own."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from helpers import wait_until
from nats_helpers import get_json

from stackrig import IsolationError
from stackrig.kinds.nats import NatsSpec
from stackrig.kinds.nats._reset import StreamReset, make_reset
from stackrig.rig import Rig

INLINE = ("-p", "no:randomly", "-p", "no:playwright")  # pytest-playwright cannot nest in one process

BUS = """
[services.events]
kind = "nats"
jetstream = true
streams = [{ name = "ORDERS", subjects = ["orders.>"] },
           { name = "CACHE", subjects = ["cache.>"], storage = "memory" }]
consumers = [{ stream = "ORDERS", durable = "mailer", filter_subject = "orders.created" },
             { stream = "CACHE", durable = "warmer" }]
"""


def reset_of(rig: Rig) -> StreamReset:
    reset = make_reset(_spec(rig), rig["events"])
    assert isinstance(reset, StreamReset)
    return reset


def _spec(rig: Rig) -> NatsSpec:
    from stackrig import load_stack

    found = load_stack(rig.record.stack_file).services["events"]
    assert isinstance(found, NatsSpec)
    return found


def api_total(rig: Rig) -> int:
    """JetStream API requests served, read from the monitoring port (which does not count as one)."""
    return int(get_json(rig["events"].monitor_url + "/jsz")["api"]["total"])


def state(rig: Rig) -> dict[str, Any]:
    js = rig.client("events", "jetstream")
    return {s["config"]["name"]: (s["state"]["messages"], sorted(c["name"] for c in js.consumers(s["config"]["name"])))
            for s in js.streams()}


def test_a_test_that_changed_nothing_costs_one_request(up: Callable[[str], Rig]) -> None:
    rig = up(BUS)
    reset = reset_of(rig)
    before = api_total(rig)
    for i in range(5):
        rig.publish("events", "elsewhere.x", {"i": i})  # core NATS: nothing to reset
        reset.after(f"test_{i}")
        assert reset.last.changed is False and reset.last.actions == []
    assert api_total(rig) == before + 5  # one $JS.API.INFO per test, nothing else
    assert reset.still_dirty() is False
    reset.close()


def test_published_messages_are_purged_and_streams_and_consumers_stay(up: Callable[[str], Rig]) -> None:
    rig = up(BUS)
    reset = reset_of(rig)
    for i in range(3):
        rig.publish("events", "orders.created", {"id": i}, jetstream=True)
    rig.publish("events", "cache.k", {"v": 1}, jetstream=True)
    reset.after("test_publishes")
    assert reset.last.changed is True
    assert sorted(reset.last.actions) == ["purged stream CACHE (1 messages)", "purged stream ORDERS (3 messages)"]
    assert state(rig) == {"ORDERS": (0, ["mailer"]), "CACHE": (0, ["warmer"])}
    mailer = rig.client("events", "jetstream").consumer_info("ORDERS", "mailer")
    assert mailer["num_pending"] == 0 and mailer["num_ack_pending"] == 0  # its state follows the purge
    reset.after("test_inspects")  # the JetStream API calls just made count as a possible change: looked, nothing
    assert reset.last.changed is True and reset.last.actions == []
    reset.after("test_nothing")
    assert reset.last.changed is False
    reset.close()


def test_what_a_test_made_goes_and_what_it_removed_comes_back(up: Callable[[str], Rig]) -> None:
    rig = up(BUS)
    reset = reset_of(rig)
    js = rig.client("events", "jetstream")
    js.create_stream({"name": "SCRATCH", "subjects": ["scratch.>"]})
    js.create_stream({"name": "KV_settings", "subjects": ["$KV.settings.>"], "max_msgs_per_subject": 1})
    js.create_consumer("ORDERS", {"durable_name": "extra", "ack_policy": "explicit"})
    js.delete_stream("CACHE")
    js.delete_consumer("ORDERS", "mailer")
    config = js.stream_info("ORDERS")["config"]
    js.update_stream({**config, "subjects": ["orders.>", "more.>"]})
    reset.after("test_messes_up")
    assert sorted(reset.last.actions) == sorted([
        "deleted stream SCRATCH", "deleted stream KV_settings", "created stream CACHE again",
        "created consumer CACHE/warmer again", "restored the config of stream ORDERS",
        "deleted consumer ORDERS/extra", "created consumer ORDERS/mailer again"])
    assert state(rig) == {"ORDERS": (0, ["mailer"]), "CACHE": (0, ["warmer"])}
    assert js.stream_info("ORDERS")["config"]["subjects"] == ["orders.>"]
    assert js.consumer_info("ORDERS", "mailer")["config"]["filter_subject"] == "orders.created"
    reset.after("test_inspects")
    assert reset.last.actions == []
    reset.after("test_nothing")
    assert reset.last.changed is False
    reset.close()


def test_settings_jetstream_cannot_update_are_restored_by_making_it_again(up: Callable[[str], Rig]) -> None:
    rig = up(BUS)
    reset = reset_of(rig)
    js = rig.client("events", "jetstream")
    mailer = js.consumer_info("ORDERS", "mailer")["config"]
    js.delete_consumer("ORDERS", "mailer")
    js.create_consumer("ORDERS", {**mailer, "deliver_policy": "new"})
    reset.after("test_changes_the_mailer")
    assert reset.last.actions == ["restored the config of consumer ORDERS/mailer"]
    assert js.consumer_info("ORDERS", "mailer")["config"]["deliver_policy"] == "all"
    reset.close()


def test_what_existed_before_the_session_is_the_baseline(up: Callable[[str], Rig]) -> None:
    """Streams the application made while starting stay (emptied); ephemeral consumers are its own."""
    rig = up(BUS)
    js = rig.client("events", "jetstream")
    js.create_stream({"name": "APP", "subjects": ["app.>"]})
    js.create_consumer("APP", {"durable_name": "app-worker", "ack_policy": "explicit"})
    rig.publish("events", "app.seeded", {"at": "start"}, jetstream=True)
    reset = reset_of(rig)
    js.api("CONSUMER.CREATE.ORDERS", {"stream_name": "ORDERS", "config": {
        "ack_policy": "none", "deliver_subject": "_INBOX.ephemeral", "inactive_threshold": 60 * 10**9}})
    reset.after("test_1")
    assert reset.last.actions == ["purged stream APP (1 messages)"]  # stored before the session: purged once
    assert state(rig)["APP"] == (0, ["app-worker"])
    assert len(state(rig)["ORDERS"][1]) == 2  # mailer, and the ephemeral one: left to its subscriber
    reset.close()


def test_after_a_restart_the_declared_streams_are_back_and_the_reset_purges(up: Callable[[str], Rig]) -> None:
    rig = up(BUS)
    reset = reset_of(rig)
    rig.publish("events", "orders.created", {"id": 1}, jetstream=True)
    rig.publish("events", "cache.k", {"v": 1}, jetstream=True)
    rig["events"].restart()  # the file store keeps ORDERS' message; the memory stream CACHE is declared again
    assert state(rig) == {"ORDERS": (1, ["mailer"]), "CACHE": (0, ["warmer"])}
    reset.after("test_restarts")  # the server's API counter started again from 0: a full look
    assert reset.last.actions == ["purged stream ORDERS (1 messages)"]
    assert state(rig) == {"ORDERS": (0, ["mailer"]), "CACHE": (0, ["warmer"])}
    reset.close()


def test_a_reset_that_cannot_reach_the_server_says_so_and_stays_dirty(up: Callable[[str], Rig]) -> None:
    rig = up(BUS)
    reset = reset_of(rig)
    rig["events"].stop()
    try:
        with pytest.raises(IsolationError) as info:
            reset.after("test_stops_the_bus")
        text = str(info.value)
        assert "service 'events': after test_stops_the_bus, JetStream did not say what changed: " in text
        assert "Connection refused" in text
        assert "fix: is 'events' running? A test that stopped it must start it again " \
               "(rig['events'].start())" in text
        assert reset.still_dirty() is True
    finally:
        rig["events"].start()
    reset.after("test_next")  # reconnects; the start declared the streams again
    assert reset.last.actions == [] and reset.still_dirty() is False
    assert state(rig) == {"ORDERS": (0, ["mailer"]), "CACHE": (0, ["warmer"])}
    reset.close()


def test_a_step_that_fails_is_named_and_the_others_still_run(up: Callable[[str], Rig]) -> None:
    rig = up(BUS)
    js = rig.client("events", "jetstream")
    js.create_stream({"name": "LEDGER", "subjects": ["ledger.>"], "deny_purge": True})  # the app's, at start
    reset = reset_of(rig)
    rig.publish("events", "ledger.entry", {"amount": 5}, jetstream=True)
    rig.publish("events", "orders.created", {"id": 1}, jetstream=True)
    with pytest.raises(IsolationError) as info:
        reset.after("test_books")
    text = str(info.value)
    assert "service 'events': JetStream could not be put back to its baseline after test_books (1 steps failed; " \
           "the others ran):" in text
    assert "- purged stream LEDGER (1 messages): service 'events': JetStream refused $JS.API.STREAM.PURGE.LEDGER:" \
        in text
    assert "fix: the next test is refused until a reset succeeds" in text
    assert reset.still_dirty() is True
    assert reset.last.actions == ["purged stream ORDERS (1 messages)"]  # the other stream was purged
    reset.close()


def test_without_jetstream_or_with_isolation_none_there_is_no_reset(up: Callable[[str], Rig]) -> None:
    rig = up('[services.events]\nkind = "nats"\n')
    assert make_reset(NatsSpec(kind="nats", name="events"), rig["events"]) is None
    assert make_reset(NatsSpec(kind="nats", name="events", jetstream=True, isolation="none"), rig["events"]) is None


APP = BUS + """
[services.app]
kind = "process"
command = ["@PY@", "@NATS_PROGRAMS@/app.py"]
depends_on = ["events"]
env = { DURABLE = "mailer", STREAM = "ORDERS", QUEUE_SUBJECT = "orders.>" }
ready = { http = "/health" }
"""


@pytest.mark.slow
def test_the_application_keeps_its_connection_and_consumer(up: Callable[[str], Rig]) -> None:
    rig = up(APP)
    reset = reset_of(rig)
    app = rig["app"].url + "/seen"
    for round_ in range(3):
        rig.publish("events", "orders.created", {"round": round_}, jetstream=True)
        assert wait_until(lambda r=round_: len(get_json(app)["durable"]) == r + 1, 10)  # type: ignore[misc]
        reset.after(f"test_{round_}")
    got = get_json(app)
    assert [json.loads(m["body"])["round"] for m in got["durable"]] == [0, 1, 2]
    assert len(got["queue"]) == 3 and got["events"] == []  # never disconnected, no errors
    reset.close()


PLUGIN_TESTS = """
import pytest

@pytest.mark.parametrize("n", range(3))
def test_each_starts_from_the_baseline(rig, n):
    js = rig.client("events", "jetstream")
    assert js.stream_info("ORDERS")["state"]["messages"] == 0
    assert sorted(s["config"]["name"] for s in js.streams()) == ["CACHE", "ORDERS"]
    tap = rig.events("events", "orders.>")
    rig.publish("events", "orders.created", {"n": n}, jetstream=True)
    assert tap.wait_for("orders.created").body == {"n": n}
    js.create_stream({"name": f"T{n}", "subjects": [f"t{n}.>"]})
"""


@pytest.mark.slow
def test_through_the_plugin_each_test_starts_from_the_baseline(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", stackrig=BUS)
    pytester.makepyfile(PLUGIN_TESTS)
    pytester.runpytest(*INLINE).assert_outcomes(passed=3)


@pytest.mark.slow
def test_without_isolation_the_streams_fill_up(pytester: pytest.Pytester) -> None:
    """The control experiment: the same tests fail when isolation is off."""
    pytester.makefile(".toml", stackrig=BUS.replace("jetstream = true", 'jetstream = true\nisolation = "none"'))
    pytester.makepyfile(PLUGIN_TESTS)
    pytester.runpytest(*INLINE).assert_outcomes(passed=1, failed=2)


@pytest.mark.slow
def test_a_test_that_leaves_the_bus_down_errors_the_next_one(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", stackrig=BUS)
    pytester.makepyfile("""
        def test_1_stops_the_bus(rig):
            rig["events"].stop()

        def test_2_is_refused(rig):
            pass
    """)
    result = pytester.runpytest(*INLINE)
    result.assert_outcomes(passed=1, errors=3)  # test 1's teardown, test 2's setup (refused) and teardown
    out = result.stdout.str()
    assert "ERROR at teardown of test_1_stops_the_bus" in out
    assert "service 'events': after test_a_test_that_leaves_the_bus_down_errors_the_next_one.py::" \
           "test_1_stops_the_bus, JetStream did not say what changed" in out
    assert "not running test_a_test_that_leaves_the_bus_down_errors_the_next_one.py::test_2_is_refused: " \
           "service 'events' could not be put back to its baseline after the previous test" in out


XDIST_TESTS = """
import json, os, time
import pytest

@pytest.mark.parametrize("n", range(6))
def test_worker_sees_only_its_own(rig, n):
    worker = os.environ["PYTEST_XDIST_WORKER"]
    tap = rig.events("events", "orders.>")
    rig.publish("events", "orders.created", {"worker": worker, "n": n}, jetstream=True)
    assert tap.wait_for("orders.created", match={"worker": worker, "n": n}).body["n"] == n
    time.sleep(0.1)  # the other worker publishes meanwhile
    assert {e.body["worker"] for e in tap.events} == {worker}
    stored = rig.client("events", "jetstream").stream_info("ORDERS")["state"]["messages"]
    assert stored == 1  # its own message only: the reset purged the previous test's
    with open(f"seen-{worker}-{n}.json", "w") as f:
        json.dump({"port": rig["events"].port, "pid": rig["events"].pid}, f)
"""


@pytest.mark.slow
def test_xdist_workers_each_run_their_own_server(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", stackrig=BUS)
    pytester.makepyfile(XDIST_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-n", "2")
    result.assert_outcomes(passed=6)
    by_worker: dict[str, set[int]] = {}
    for path in pytester.path.glob("seen-*.json"):
        by_worker.setdefault(path.name.split("-")[1], set()).add(json.loads(path.read_text())["port"])
    assert len(by_worker) == 2
    ports = [p for ps in by_worker.values() for p in ps]
    assert all(len(ps) == 1 for ps in by_worker.values()) and len(set(ports)) == 2  # a server per worker
