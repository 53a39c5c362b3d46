"""The per-test reset: what it purges, deletes and restores, that the app keeps its consumer, what a
test that changed nothing costs, and the plugin running it between tests."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator

import pika
import pytest
from rabbitmq_support import needs_rabbitmq

from stackrig import IsolationError, Stack
from stackrig.kinds.rabbitmq._reset import RabbitReset
from stackrig.kinds.rabbitmq._spec import RabbitSpec
from stackrig.rig import Rig

pytestmark = needs_rabbitmq

STACK = """
[services.bus]
kind = "rabbitmq"
exchanges = [{ name = "orders", type = "topic" }]
queues = [{ name = "billing" }, { name = "parked" }]
bindings = [{ exchange = "orders", queue = "billing", routing_key = "order.*" },
            { exchange = "orders", queue = "parked", routing_key = "#" }]
tap_exchange = "orders"

[services.app]
kind = "process"
command = ["@PY@", "@RMQ_PROGRAMS@/consumer_app.py"]
port = false
ready = { log = "^connected$" }
env = { AMQP_URL = "${bus.url}", QUEUE = "billing", OUT_EXCHANGE = "orders", STATUS_FILE = "app-status.log" }
depends_on = ["bus"]
"""


@pytest.fixture(scope="module")
def stack(module_up: Callable[[str], tuple[Stack, Rig]]) -> Iterator[tuple[Rig, RabbitReset]]:
    s, rig = module_up(STACK)
    spec = s.file.services["bus"]
    assert isinstance(spec, RabbitSpec)
    reset = RabbitReset(spec, rig["bus"])
    yield rig, reset
    reset.close()
    rig.close()


@pytest.fixture
def rig(stack: tuple[Rig, RabbitReset]) -> Iterator[Rig]:
    r, reset = stack
    yield r
    r.close_taps()
    reset.after("teardown")


@pytest.fixture
def reset(stack: tuple[Rig, RabbitReset]) -> RabbitReset:
    return stack[1]


def channel(rig: Rig) -> pika.adapters.blocking_connection.BlockingChannel:
    conn = pika.BlockingConnection(pika.URLParameters(rig["bus"].direct_url))
    return conn.channel()


def exists(rig: Rig, queue: str) -> bool:
    ch = channel(rig)
    try:
        ch.queue_declare(queue, passive=True)
        return True
    except pika.exceptions.ChannelClosedByBroker:
        return False
    finally:
        ch.connection.close()


def test_a_test_that_changed_nothing_costs_no_io(rig: Rig, reset: RabbitReset) -> None:
    reset.after("warm")
    before = reset.resets
    times = []
    for _ in range(200):
        t0 = time.perf_counter()
        reset.after("noop")
        times.append(time.perf_counter() - t0)
    assert reset.resets == before  # no round trip to the node
    assert statistics.median(times) < 0.001


def test_purges_every_queue_and_the_app_keeps_consuming(rig: Rig, reset: RabbitReset) -> None:
    tap = rig.events("bus", "processed.#")
    rig.publish("bus", "order.created", {"id": 1})
    assert tap.wait_for("processed.order.created").headers["x-processed-by"] == "consumer-app"
    parked = rig.queue("bus", "parked")
    assert len(parked) == 2  # the order and what the app published
    reset.after("one")
    assert reset.last["purged"] == ["parked"] and reset.last["messages"] == 2 and reset.last["deleted"] == []
    assert len(parked) == 0 and len(rig.queue("bus", "billing")) == 0
    rig.publish("bus", "order.after-reset", {"id": 2})  # the app's consumer survived the reset
    assert tap.wait_for("processed.order.after-reset").body == {"id": 2}


def test_what_a_test_declared_goes_and_what_it_deleted_comes_back(rig: Rig, reset: RabbitReset) -> None:
    ch = channel(rig)
    ch.exchange_declare("scratch", "fanout", durable=True)
    ch.queue_declare("scratch-q", durable=True)
    ch.queue_bind("scratch-q", "scratch")
    ch.queue_bind("billing", "orders", "extra.#")
    ch.queue_delete("parked")
    ch.connection.close()
    reset.after("declares")  # nothing was published: the helper's events said it changed
    last = reset.last
    assert last["deleted"] == ["scratch-q"] and last["exchanges_deleted"] == ["scratch"]
    assert last["bindings_removed"] == 1 and last["restored"] == ["parked"] and last["bindings_restored"] == 1
    assert not exists(rig, "scratch-q") and exists(rig, "parked")
    rig.publish("bus", "extra.x", {}, mandatory=False)
    time.sleep(0.1)
    assert len(rig.queue("bus", "billing")) == 0  # the test's binding is gone
    assert len(rig.queue("bus", "parked")) == 1  # the restored queue is bound again


def test_a_queue_something_consumes_from_is_purged_not_deleted(rig: Rig, reset: RabbitReset) -> None:
    ch = channel(rig)
    ch.queue_declare("watched", durable=False)
    ch.basic_consume("watched", lambda *a: None, auto_ack=False)
    ch.basic_qos(prefetch_count=1)
    ch.basic_publish("", "watched", b"1")
    ch.basic_publish("", "watched", b"2")
    ch.connection.process_data_events(0.2)
    reset.after("consumer")
    assert reset.last["kept"] == ["watched"] and "watched" not in reset.last["deleted"], reset.last
    ch.connection.close()  # the consumer goes: the next reset deletes the queue
    reset.after("no consumer")
    assert "watched" in reset.last["deleted"]


def test_taps_alone_do_not_make_a_test_dirty(rig: Rig, reset: RabbitReset) -> None:
    reset.after("before")
    before = reset.resets
    tap = rig.events("bus", "order.*")
    tap.close()
    time.sleep(0.1)
    why = reset.watcher.why if reset.watcher.changed else ""
    reset.after("taps only")
    assert reset.resets == before, why


def test_a_broker_stopped_and_started_by_a_test(rig: Rig, reset: RabbitReset) -> None:
    from stackrig.events import TapError

    tap = rig.events("bus", "order.*")
    rig.publish("bus", "order.persisted", {"id": 3}, persistent=True)
    rig["bus"].restart()
    with pytest.raises(TapError) as info:
        tap.wait_for("order.never", timeout=2)
    assert "the tap on 'bus' (order.*) stopped receiving: the connection to RabbitMQ was lost" in str(info.value)
    assert len(rig.queue("bus", "parked")) == 1  # a clean stop: the persistent message survived
    reset.after("restarted")  # full reset, the watcher reconnects
    assert reset.watcher.healthy and "parked" in reset.last["purged"]  # (billing too, if the app had not
    # reconnected yet: the restart requeued what it held)
    assert len(rig.queue("bus", "parked")) == 0


def test_a_reset_that_cannot_reach_the_broker_says_so(rig: Rig, reset: RabbitReset) -> None:
    rig["bus"].stop()
    try:
        with pytest.raises(IsolationError) as info:
            reset.after("tests/x.py::test_stop")
        text = str(info.value)
        assert text.startswith("service 'bus': could not put vhost '/' back to its baseline after "
                               "tests/x.py::test_stop (")
        assert text.endswith("fix: a test that stops the broker must start it again (rig[...].start()) before "
                             "it ends")
        assert reset.still_dirty()
    finally:
        rig["bus"].start()
    reset.after("started")
    assert not reset.still_dirty()


PLUGIN_STACK = """
[services.bus]
kind = "rabbitmq"
exchanges = [{ name = "orders", type = "topic" }]
queues = [{ name = "billing" }]
bindings = [{ exchange = "orders", queue = "billing", routing_key = "order.*" }]
tap_exchange = "orders"
"""
PLUGIN_TESTS = """
import pytest

@pytest.mark.parametrize("n", range(4))
def test_each_starts_empty(rig, n):
    q = rig.queue("bus", "billing")
    assert len(q) == 0
    rig.publish("bus", "order.created", {"n": n})
    assert len(q) == 1
"""


@pytest.mark.slow
def test_the_plugin_resets_between_tests(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", stackrig=PLUGIN_STACK)
    pytester.makepyfile(PLUGIN_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:randomly")
    result.assert_outcomes(passed=4)


@pytest.mark.slow
def test_without_isolation_messages_leak(pytester: pytest.Pytester) -> None:
    """The control experiment: the same tests fail when isolation is off."""
    pytester.makefile(".toml", stackrig=PLUGIN_STACK + 'isolation = "none"\n')
    pytester.makepyfile(PLUGIN_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:randomly")
    result.assert_outcomes(passed=1, failed=3)
