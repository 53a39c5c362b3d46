"""The protocol pieces without a server: parsing split reads, headers, subjects, JetStream replies."""

from __future__ import annotations

import pytest

from stackrig.kinds.nats._events import _ack_meta, to_event
from stackrig.kinds.nats._wire import Address, Msg, NatsError, Parser, check_subject, encode_headers, parse_headers


def test_messages_split_anywhere_come_out_whole() -> None:
    stream = (b'INFO {"server_id":"x","max_payload":1048576}\r\n+OK\r\nPING\r\n'
              b"MSG orders.created 2 5\r\nhello\r\n"
              b"MSG orders.paid 2 _INBOX.r.1 0\r\n\r\n"
              b"HMSG orders.x 3 _INBOX.r.2 34 36\r\nNATS/1.0\r\ncontent-type: text/x\r\n\r\nhi\r\n"
              b"HMSG _INBOX.r.3 1 16 16\r\nNATS/1.0 503\r\n\r\n\r\n"
              b"-ERR 'Permissions Violation for Subscription to \"secret\"'\r\nPONG\r\n")
    for size in (1, 2, 7, 64, len(stream)):
        parser = Parser()
        ops = []
        for i in range(0, len(stream), size):
            ops += parser.feed(stream[i:i + size])
        kinds = [op for op, _ in ops]
        assert kinds == ["INFO", "PING", "MSG", "MSG", "MSG", "MSG", "ERR", "PONG"], size
        assert ops[0][1]["max_payload"] == 1048576
        first, second, third, fourth = (arg for op, arg in ops if op == "MSG")
        assert (first.subject, first.sid, first.reply, first.data) == ("orders.created", 2, None, b"hello")
        assert (second.reply, second.data) == ("_INBOX.r.1", b"")
        assert (third.subject, third.reply, third.data, third.headers) == ("orders.x", "_INBOX.r.2", b"hi",
                                                                            {"content-type": "text/x"})
        assert (fourth.status, fourth.data, fourth.headers) == ("503", b"", {})
        assert ops[6][1] == 'Permissions Violation for Subscription to "secret"'


def test_a_binary_payload_with_crlf_inside() -> None:
    data = b"\r\nMSG fake 1 3\r\n\x00\xff"
    ops = Parser().feed(b"MSG bin 9 %d\r\n%s\r\n" % (len(data), data))
    assert ops[0][1].data == data


def test_garbage_is_a_protocol_error() -> None:
    with pytest.raises(NatsError, match="protocol error: unexpected b'HTTP/1.1 400 Bad Request'"):
        Parser().feed(b"HTTP/1.1 400 Bad Request\r\n")


def test_headers_both_ways() -> None:
    raw = encode_headers({"content-type": "application/json", "X-Id": "7"})
    assert raw == b"NATS/1.0\r\ncontent-type: application/json\r\nX-Id: 7\r\n\r\n"
    assert parse_headers(raw) == (None, None, {"content-type": "application/json", "X-Id": "7"})
    assert parse_headers(b"NATS/1.0 408 Request Timeout\r\nA: 1\r\nA: 2\r\n\r\n") == (
        "408", "Request Timeout", {"A": "1, 2"})
    with pytest.raises(NatsError, match="cannot be sent in NATS"):
        encode_headers({"bad key": "x"})
    with pytest.raises(NatsError, match="cannot be sent in NATS"):
        encode_headers({"k": "line\r\nbreak"})


def test_subjects() -> None:
    check_subject("orders.>", wildcards=True, what="the pattern")
    check_subject("*.created", wildcards=True, what="the pattern")
    check_subject("orders.created", wildcards=False, what="the subject")
    cases = [
        ("orders.>", False, "wildcards ('*', '>') are only for subscriptions"),
        ("orders..x", True, "it has an empty token"),
        ("orders.>.x", True, "'>' may only be the last token"),
        ("orders.a*", True, "a wildcard must be a whole token"),
        ("orders created", True, "it contains whitespace"),
        ("", True, "it is empty"),
    ]
    for subject, wildcards, problem in cases:
        with pytest.raises(NatsError) as info:
            check_subject(subject, wildcards=wildcards, what="the pattern")
        assert f"the pattern {subject!r} is not a valid NATS subject: {problem}" in str(info.value)
        assert "fix: tokens separated by '.'" in str(info.value)


def test_urls_carry_the_credentials() -> None:
    assert Address.parse("nats://127.0.0.1:4222") == Address("127.0.0.1", 4222)
    assert Address.parse("nats://app:p%40ss@127.0.0.1:4222") == Address("127.0.0.1", 4222, "app", "p@ss")
    assert Address.parse("nats://t0k@127.0.0.1:4222") == Address("127.0.0.1", 4222, token="t0k")
    assert Address("h", 1, "app", "pw").connect_options("n")["pass"] == "pw"
    assert Address("h", 1, token="t").connect_options("n")["auth_token"] == "t"
    with pytest.raises(NatsError, match="not a NATS URL: 'http://x'"):
        Address.parse("http://x")


def test_what_meta_says() -> None:
    delivery = Msg("audit.orders", 2, "$JS.ACK.ORDERS.audit.1.42.7.1700000000123456789.3", b"{}")
    meta = to_event(delivery, []).meta
    assert meta == {"reply": delivery.reply, "stream": "ORDERS", "consumer": "audit", "delivered": 1,
                    "stream_seq": 42, "consumer_seq": 7, "pending": 3, "published": pytest.approx(1700000000.123)}
    v2 = "$JS.ACK.hub.ACCHASH.ORDERS.audit.2.42.7.1700000000000000000.0.tok"
    assert _ack_meta(v2)["domain"] == "hub" and _ack_meta(v2)["delivered"] == 2
    republished = Msg("copy.orders", 2, None, b"x", {"Nats-Stream": "ORDERS", "Nats-Sequence": "9"})
    assert to_event(republished, []).meta == {"reply": None, "stream": "ORDERS", "stream_seq": 9}
    stored = to_event(Msg("orders.created", 2, "_INBOX.a.1", b"{}"), [("ORDERS", ["orders.>"])])
    assert stored.meta == {"reply": "_INBOX.a.1", "stream": "ORDERS"}
    status = to_event(Msg("hb", 2, None, b"", {}, "100", "Idle Heartbeat"), [])
    assert status.meta == {"reply": None, "status": "100", "description": "Idle Heartbeat"}
