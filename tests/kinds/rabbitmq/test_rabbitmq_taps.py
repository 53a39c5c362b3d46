"""Taps, publishing and queues on a real broker: patterns per exchange type, headers and properties,
publishers in other processes (Python with pika, Node.js with no package), every error message."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest
from rabbitmq_support import NODE, RMQ_PROGRAMS, needs_rabbitmq

from stackrig import Stack, StackrigError
from stackrig.events import EventNotSeen
from stackrig.kinds.rabbitmq._reset import RabbitReset
from stackrig.kinds.rabbitmq._spec import RabbitSpec
from stackrig.rig import Rig

pytestmark = needs_rabbitmq

STACK = """
[services.bus]
kind = "rabbitmq"
exchanges = [{ name = "orders", type = "topic" }, { name = "fan", type = "fanout" },
             { name = "hdr", type = "headers" }, { name = "pay", type = "direct" }]
queues = [{ name = "billing" }, { name = "fanq" }, { name = "hdrq" }, { name = "payq" }]
bindings = [
    { exchange = "orders", queue = "billing", routing_key = "order.*" },
    { exchange = "fan", queue = "fanq" },
    { exchange = "hdr", queue = "hdrq", arguments = { "x-match" = "any", kind = "a" } },
    { exchange = "pay", queue = "payq", routing_key = "charge" },
]
tap_exchange = "orders"
"""


@pytest.fixture(scope="module")
def bus(module_up: Callable[[str], tuple[Stack, Rig]]) -> Iterator[tuple[Rig, RabbitReset]]:
    stack, rig = module_up(STACK)
    spec = stack.file.services["bus"]
    assert isinstance(spec, RabbitSpec)
    reset = RabbitReset(spec, rig["bus"])
    yield rig, reset
    reset.close()
    rig.close()


@pytest.fixture
def rig(bus: tuple[Rig, RabbitReset], request: pytest.FixtureRequest) -> Iterator[Rig]:
    """The module's rig; after each test its taps are closed and the vhost is reset (as the plugin does)."""
    r, reset = bus
    yield r
    r.close_taps()
    reset.after(request.node.nodeid)


def test_a_tap_is_a_copy_the_apps_queue_still_gets_the_message(rig: Rig) -> None:
    tap = rig.events("bus", "order.*")
    rig.publish("bus", "order.created", {"id": 1, "total_cents": 1500})
    ev = tap.wait_for("order.created", match={"total_cents": 1500})
    assert ev.body == {"id": 1, "total_cents": 1500}
    assert len(rig.queue("bus", "billing")) == 1  # the binding the app relies on got it as well
    assert tap.where == "exchange 'orders' (topic), binding key 'order.*'"


def test_properties_and_headers_reach_the_event(rig: Rig) -> None:
    tap = rig.events("bus", "order.#")
    rig.publish("bus", "order.paid.card", {"id": 2}, headers={
        "x-trace": "t-1", "message-id": "m-1", "correlation-id": "c-1", "reply-to": "replies", "type": "paid",
        "content-encoding": "identity", "app-id": "tests", "priority": "3", "expiration": "60000"}, persistent=True)
    ev = tap.wait_for("order.paid.card")
    h = ev.headers
    assert h["content-type"] == "application/json" and h["Content-Type"] == "application/json"
    assert (h["message-id"], h["correlation-id"], h["reply-to"], h["type"]) == ("m-1", "c-1", "replies", "paid")
    assert (h["content-encoding"], h["app-id"], h["priority"], h["expiration"]) == ("identity", "tests", "3", "60000")
    assert h["x-trace"] == "t-1" and h["delivery-mode"] == "2"
    assert ev.meta == {"exchange": "orders", "routing_key": "order.paid.card", "redelivered": False,
                       "delivery_mode": 2, "headers": {"x-trace": "t-1"}}


def test_bodies_are_encoded_by_type(rig: Rig) -> None:
    tap = rig.events("bus", "body.*")
    rig.publish("bus", "body.text", "hello", mandatory=False)
    rig.publish("bus", "body.bytes", b"\x00\x01", mandatory=False)
    rig.publish("bus", "body.list", [1, 2], mandatory=False)
    assert tap.wait_for("body.text").headers["content-type"] == "text/plain; charset=utf-8"
    raw = tap.wait_for("body.bytes")
    assert raw.raw == b"\x00\x01" and raw.headers["content-type"] == "application/octet-stream"
    assert tap.wait_for("body.list").body == [1, 2]


def test_topic_wildcards_are_amqps(rig: Rig) -> None:
    star = rig.events("bus", "order.*")
    hash_ = rig.events("bus", "order.#")
    rig.publish("bus", "order.a.b", {}, mandatory=False)
    rig.publish("bus", "order", {}, mandatory=False)
    assert hash_.wait_for("order.a.b") and hash_.wait_for("order")
    star.expect_none(during=0.3)
    assert star.count() == 0 and hash_.count("order.#") == 2


def test_a_fanout_tap_filters_by_routing_key(rig: Rig) -> None:
    tap = rig.events("bus", "a.*", exchange="fan")
    rig.publish("bus", "b.x", {"n": 1}, exchange="fan")
    rig.publish("bus", "a.x", {"n": 2}, exchange="fan")
    assert tap.wait_for("a.x").body == {"n": 2}
    tap.expect_none("b.x", during=0.2)
    assert len(rig.queue("bus", "fanq")) == 2
    assert tap.where == "exchange 'fan' (fanout), routing keys filtered by 'a.*'"


def test_a_headers_tap_binds_with_its_headers(rig: Rig) -> None:
    tap = rig.events("bus", "#", exchange="hdr", headers={"kind": "b"})
    rig.publish("bus", "k1", {"n": 1}, headers={"kind": "a"}, exchange="hdr")
    rig.publish("bus", "k2", {"n": 2}, headers={"kind": "b"}, exchange="hdr")
    assert tap.wait_for().body == {"n": 2}
    tap.expect_none("k1", during=0.2)
    assert len(rig.queue("bus", "hdrq")) == 1  # the app's binding (kind = a) got the other one


def test_direct_exchanges_exact_keys_bind_wildcards_read_the_firehose(rig: Rig) -> None:
    exact = rig.events("bus", "charge", exchange="pay")
    wild = rig.events("bus", "*", exchange="pay")
    rig.publish("bus", "charge", {"n": 1}, exchange="pay")
    rig.publish("bus", "refund", {"n": 2}, exchange="pay", mandatory=False)  # routed nowhere
    assert exact.wait_for("charge").meta["exchange"] == "pay"
    exact.expect_none("refund", during=0.2)
    assert wild.wait_for("refund").meta["routed_queues"] == []
    got = wild.wait_for("charge")
    assert got.meta["firehose"] and "payq" in got.meta["routed_queues"]  # and the exact tap's queue
    assert got.headers["content-type"] == "application/json"
    assert wild.where == "firehose copies of what is published to exchange 'pay'"


def test_the_default_exchange_is_tapped_through_the_firehose(rig: Rig) -> None:
    tap = rig.events("bus", "billing", exchange="")
    rig.publish("bus", "billing", {"direct": True}, exchange="", headers={"message-id": "d-1", "x-a": "1"})
    ev = tap.wait_for("billing")
    assert ev.body == {"direct": True} and ev.meta["exchange"] == ""
    assert (ev.headers["message-id"], ev.headers["x-a"]) == ("d-1", "1")
    assert len(rig.queue("bus", "billing")) == 1


def test_a_publisher_in_another_process(rig: Rig) -> None:
    tap = rig.events("bus", "order.imported")
    done = subprocess.run([sys.executable, str(RMQ_PROGRAMS / "publisher.py"), rig["bus"].url, "orders",
                           "order.imported", "5", "pika"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    events = [tap.wait_for("order.imported", match={"n": i}) for i in range(5)]
    assert [e.headers["correlation-id"] for e in events] == [f"pika-{i}" for i in range(5)]
    assert all(e.headers["x-source"] == "pika" and e.meta["delivery_mode"] == 2 for e in events)


def test_a_publisher_in_node(rig: Rig) -> None:
    tap = rig.events("bus", "order.*")
    done = subprocess.run([NODE, str(RMQ_PROGRAMS / "publisher.js"), rig["bus"].url, "orders", "order.node",
                           json.dumps({"from": "node"}), "application/json", "n-1"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    ev = tap.wait_for("order.node")
    assert ev.body == {"from": "node"}
    assert (ev.headers["content-type"], ev.headers["x-publisher"], ev.headers["message-id"]) == (
        "application/json", "node", "n-1")


def test_a_wait_that_times_out_lists_what_the_tap_saw(rig: Rig) -> None:
    tap = rig.events("bus", "order.*")
    rig.publish("bus", "order.created", {"id": 7})
    with pytest.raises(EventNotSeen) as info:
        tap.wait_for("order.cancelled", timeout=0.3)
    text = str(info.value)
    assert "on the tap on 'bus' (order.*, exchange 'orders' (topic), binding key 'order.*')" in text
    assert "order.created at +" in text and '{"id":7}' in text


def test_tap_errors(rig: Rig) -> None:
    with pytest.raises(StackrigError) as info:
        rig.events("bus", "#", exchang="orders")
    assert str(info.value) == ("rig.events('bus', ...): unknown option exchang; a rabbitmq tap takes exchange, "
                               "limit, headers, x_match")
    with pytest.raises(StackrigError) as info:
        rig.events("bus", "#", exchange="nope")
    assert str(info.value) == ("rig.events('bus', ...): exchange 'nope' does not exist in vhost '/'\n"
                               "  fix: declare it in the stack file's `exchanges` (or the definitions file), or "
                               "tap the exchange the app uses")
    with pytest.raises(StackrigError) as info:
        rig.events("bus", "#", exchange="orders", headers={"a": "b"})
    assert str(info.value) == ("tap option headers=: exchange 'orders' is a topic exchange; headers= binds to a "
                               "headers exchange")
    with pytest.raises(StackrigError) as info:
        rig.events("bus", "#", exchange="hdr", x_match="some")
    assert str(info.value) == 'tap option x_match=\'some\': expected "all" or "any"'
    with pytest.raises(StackrigError) as info:
        rig.events("bus", "#", limit=0)
    assert str(info.value) == "tap option limit=0: expected a positive integer"


def test_publish_errors(rig: Rig) -> None:
    with pytest.raises(StackrigError) as info:
        rig.publish("bus", "nobody.listens", {"a": 1})
    assert str(info.value).startswith("rig.publish('bus', 'nobody.listens'): exchange 'orders' routed it to no "
                                      "queue (vhost '/')")
    assert str(info.value).endswith("fix: bind a queue for this routing key (or make a tap first), publish to another "
                                    "exchange (exchange=...), or pass mandatory=False to allow it")
    with pytest.raises(StackrigError) as info:
        rig.publish("bus", "x", {}, exchange="missing")
    assert str(info.value).startswith("rig.publish('bus', 'x'): RabbitMQ refused it: ")
    assert "NOT_FOUND - no exchange 'missing' in vhost '/'" in str(info.value)
    assert str(info.value).endswith("fix: does exchange 'missing' exist in vhost '/'?")
    with pytest.raises(StackrigError) as info:
        rig.publish("bus", "x", {}, routing="y")
    assert str(info.value) == ("rig.publish('bus', ...): unknown option routing; a rabbitmq publish takes exchange, "
                               "persistent, mandatory, timeout")
    rig.publish("bus", "order.after-an-error", {})  # the publisher channel came back


def test_queues_peek_receive_purge_len(rig: Rig) -> None:
    q = rig.queue("bus", "billing")
    for i in range(3):
        rig.publish("bus", "order.q", {"i": i})
    assert len(q) == 3
    peeked = q.peek(2)
    assert [e.body for e in peeked] == [{"i": 0}, {"i": 1}]
    assert [e.meta["redelivered"] for e in peeked] == [False, False]
    assert len(q) == 3  # returned at once
    again = q.peek(5)
    assert [e.body["i"] for e in again] == [0, 1, 2] and again[0].meta["redelivered"] is True
    taken = q.receive(2)
    assert [e.body["i"] for e in taken] == [0, 1] and len(q) == 1
    q.purge()
    assert len(q) == 0 and q.receive(1) == [] and q.receive(1, wait=0.2) == []
    with pytest.raises(StackrigError) as info:
        len(rig.queue("bus", "bil,ling"))
    assert str(info.value) == ("rig.queue('bus', 'bil,ling'): no queue 'bil,ling' in vhost '/'\n"
                               "  fix: declare it in the stack file's `queues` (or the definitions file), or check "
                               "the name")
    assert len(q) == 0  # the channel came back after the error
