"""The tap itself, fed by a thread the way a broker subscriber feeds it: waits, absences, bounds,
and the messages of a failed wait."""

from __future__ import annotations

import threading
import time

import pytest

from stackrig.events import (
    Event,
    EventNotSeen,
    Tap,
    TapError,
    UnexpectedEvent,
    amqp_topic,
    encode_body,
    glob,
    mqtt_topic,
    nats_subject,
)


def later(tap: Tap, *events: Event, delay: float = 0.05) -> threading.Thread:
    def feed() -> None:
        time.sleep(delay)
        for e in events:
            tap.feed(e)

    t = threading.Thread(target=feed)
    t.start()
    return t


def ev(subject: str, body: object, **headers: str) -> Event:
    raw, ctype = encode_body(body)
    return Event(subject, raw, {"content-type": ctype, **headers})


def test_wait_for_returns_the_first_match_and_then_the_next() -> None:
    tap = Tap("events", "orders.>", subject_matches=nats_subject)
    t = later(tap, ev("orders.created", {"id": 1, "total_cents": 900}),
              ev("orders.created", {"id": 2, "total_cents": 1500}),
              ev("orders.created", {"id": 3, "total_cents": 1500}))
    first = tap.wait_for("orders.created", match={"total_cents": 1500}, timeout=5)
    second = tap.wait_for("orders.created", match={"total_cents": 1500}, timeout=5)
    t.join()
    assert (first.body["id"], second.body["id"]) == (2, 3)
    assert first.headers["Content-Type"] == "application/json"  # headers ignore case
    assert tap.count("orders.*") == 3 and tap.count(match={"id": 1}) == 1
    assert tap.wait_for(match=lambda e: e.body["id"] == 1).body["total_cents"] == 900


def test_a_failed_wait_lists_what_was_seen_closest_first() -> None:
    tap = Tap("events", "orders.>", subject_matches=nats_subject)
    tap.feed(ev("orders.paid", {"order_id": 7}))
    tap.feed(ev("orders.created", {"id": 7, "total_cents": 1400}))
    with pytest.raises(EventNotSeen) as info:
        tap.wait_for("orders.created", match={"total_cents": 1500}, timeout=0.1)
    text = str(info.value)
    assert isinstance(info.value, AssertionError)
    assert "no event with subject 'orders.created' and body containing {'total_cents': 1500}" in text
    assert "on the tap on 'events' (orders.>) within 0.1 s; it saw 2, the closest first" in text
    closest, other = text.index("body.total_cents: expected 1500, found 1400"), text.index("orders.paid at")
    assert closest < other
    assert "subject 'orders.paid' does not match 'orders.created'" in text


def test_expect_none_sees_past_and_arriving_events() -> None:
    tap = Tap("events", "orders.>", subject_matches=nats_subject)
    tap.feed(ev("orders.created", {"id": 1}))
    tap.expect_none("orders.cancelled", during=0.1)
    t = later(tap, ev("orders.cancelled", {"id": 1}), delay=0.05)
    with pytest.raises(UnexpectedEvent, match=r"arrived on the tap on 'events' \(orders.>\) \(expected none"):
        tap.expect_none("orders.cancelled", during=2)
    t.join()
    with pytest.raises(UnexpectedEvent):
        tap.expect_none(match={"id": 1}, during=0)


def test_the_buffer_is_bounded_and_says_what_it_dropped() -> None:
    tap = Tap("events", "x.>", subject_matches=nats_subject, limit=100)
    for i in range(1000):
        tap.feed(ev(f"x.{i}", {"i": i}))
    assert len(tap.events) == 100 and tap.dropped == 900
    assert tap.events[0].body == {"i": 900}
    with pytest.raises(EventNotSeen, match="900 older events were dropped: a tap keeps the newest 100"):
        tap.wait_for("x.5", timeout=0)


def test_a_broken_subscription_surfaces_in_the_wait() -> None:
    tap = Tap("events", "x", subject_matches=nats_subject)
    tap.fail(ConnectionResetError("nats: connection closed"))
    with pytest.raises(TapError, match="stopped receiving: nats: connection closed"):
        tap.wait_for(timeout=1)


def test_non_json_bodies_are_bytes() -> None:
    e = Event("t", b"\x00\x01binary")
    assert e.body == b"\x00\x01binary" and e.text.endswith("binary")
    tap = Tap("t", "t")
    tap.feed(e)
    with pytest.raises(EventNotSeen, match="the body is not JSON"):
        tap.wait_for(match={"a": 1}, timeout=0)


@pytest.mark.parametrize(("matches", "pattern", "subject", "expected"), [
    (nats_subject, "orders.>", "orders.created.eu", True),
    (nats_subject, "orders.>", "orders", False),
    (nats_subject, "orders.*", "orders.created.eu", False),
    (mqtt_topic, "devices/+/temp", "devices/7/temp", True),
    (mqtt_topic, "devices/#", "devices", True),
    (mqtt_topic, "#", "$SYS/broker/uptime", False),
    (amqp_topic, "order.#", "order", True),
    (amqp_topic, "order.*", "order", False),
    (amqp_topic, "*.created.#", "order.created.eu.x", True),
    (amqp_topic, "#.eu", "order.created.eu", True),
    (glob, "orders:*", "orders:7", True),
    (glob, "orders:?", "orders:17", False),
])
def test_wildcard_syntaxes(matches: object, pattern: str, subject: str, expected: bool) -> None:
    assert matches(pattern, subject) is expected  # type: ignore[operator]
