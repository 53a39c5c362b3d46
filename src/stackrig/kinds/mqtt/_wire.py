"""A minimal, blocking MQTT 3.1.1 / 5 client written by hand, for the readiness probe and the
per-test reset (no client library: both must be cheap, synchronous and exact about ordering).

It speaks just enough of the protocol: CONNECT/CONNACK, SUBSCRIBE/SUBACK,
UNSUBSCRIBE/UNSUBACK, PUBLISH (any QoS, with the acknowledgement flows), PINGREQ/PINGRESP and
DISCONNECT.  :meth:`WireClient.scan` is the one operation the reset is built on: which
retained messages the broker holds under a topic filter, found deterministically (see its
docstring for the ordering it relies on).
"""

from __future__ import annotations

import os
import socket
import struct
import time
from dataclasses import dataclass, field

__all__ = ["MqttRefused", "Retained", "WireClient", "WireError", "connect_packet", "read_connack", "CONNACK_TEXT",
           "parse_properties", "encode_properties", "PROTOCOL_V311", "PROTOCOL_V5"]

PROTOCOL_V311 = 4
PROTOCOL_V5 = 5

CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT = 8, 9, 10, 11, 12, 13, 14

# CONNACK return codes (3.1.1) and the common MQTT 5 reason codes
CONNACK_TEXT = {
    0: "accepted",
    1: "unacceptable protocol version",
    2: "client identifier rejected",
    3: "server unavailable",
    4: "bad user name or password",
    5: "not authorized",
    0x80: "unspecified error",
    0x81: "malformed packet",
    0x82: "protocol error",
    0x84: "unsupported protocol version",
    0x85: "client identifier not valid",
    0x86: "bad user name or password",
    0x87: "not authorized",
    0x88: "server unavailable",
    0x89: "server busy",
    0x8A: "banned",
    0x8C: "bad authentication method",
}

# MQTT 5 property identifiers -> value type
_PROP_TYPES = {
    0x01: "byte", 0x02: "int4", 0x03: "str", 0x08: "str", 0x09: "bin", 0x0B: "varint", 0x11: "int4",
    0x12: "str", 0x13: "int2", 0x15: "str", 0x16: "bin", 0x17: "byte", 0x18: "int4", 0x19: "byte",
    0x1A: "str", 0x1C: "str", 0x1F: "str", 0x21: "int2", 0x22: "int2", 0x23: "int2", 0x24: "byte",
    0x25: "byte", 0x26: "pair", 0x27: "int4", 0x28: "byte", 0x29: "byte", 0x2A: "byte",
}
PROP_PAYLOAD_FORMAT, PROP_MESSAGE_EXPIRY, PROP_CONTENT_TYPE, PROP_RESPONSE_TOPIC = 0x01, 0x02, 0x03, 0x08
PROP_CORRELATION_DATA, PROP_SUBSCRIPTION_ID, PROP_TOPIC_ALIAS, PROP_USER = 0x09, 0x0B, 0x23, 0x26


class WireError(Exception):
    """The broker broke the conversation (closed the connection, sent something unexpected)."""


class MqttRefused(WireError):
    """CONNACK with a non-zero return code."""

    def __init__(self, code: int) -> None:
        self.code = code
        super().__init__(f"the broker refused the connection: {CONNACK_TEXT.get(code, 'code')} (code {code:#04x})")


# -- encoding ------------------------------------------------------------------------------
def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n % 128
        n //= 128
        out.append(byte | 0x80 if n else byte)
        if not n:
            return bytes(out)


def _str(text: str) -> bytes:
    raw = text.encode("utf-8")
    return struct.pack("!H", len(raw)) + raw


def _bin(raw: bytes) -> bytes:
    return struct.pack("!H", len(raw)) + raw


def _packet(first: int, body: bytes) -> bytes:
    return bytes([first]) + _varint(len(body)) + body


Property = tuple[int, object]  # (identifier, value): str, bytes, int, or (str, str) for user properties


def encode_properties(props: list[Property]) -> bytes:
    out = bytearray()
    for ident, value in props:
        kind = _PROP_TYPES[ident]
        out += _varint(ident)
        if kind == "byte":
            out.append(int(value))  # type: ignore[call-overload]
        elif kind == "int2":
            out += struct.pack("!H", value)
        elif kind == "int4":
            out += struct.pack("!I", value)
        elif kind == "varint":
            out += _varint(int(value))  # type: ignore[call-overload]
        elif kind == "str":
            out += _str(str(value))
        elif kind == "bin":
            out += _bin(bytes(value))  # type: ignore[call-overload]
        else:
            pair: tuple[str, str] = value  # type: ignore[assignment]
            out += _str(pair[0]) + _str(pair[1])
    return _varint(len(out)) + bytes(out)


def connect_packet(client_id: str, protocol: int = PROTOCOL_V311, user: str | None = None,
                   password: str | None = None, keepalive: int = 0, clean: bool = True) -> bytes:
    flags = (0x02 if clean else 0) | (0x80 if user is not None else 0) | (0x40 if password is not None else 0)
    body = _str("MQTT") + bytes([protocol, flags]) + struct.pack("!H", keepalive)
    if protocol == PROTOCOL_V5:
        body += b"\x00"  # no properties
    body += _str(client_id)
    if user is not None:
        body += _str(user)
    if password is not None:
        body += _bin(password.encode("utf-8"))
    return _packet(CONNECT << 4, body)


# -- decoding ------------------------------------------------------------------------------
def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if pos >= len(data):
            raise WireError("malformed packet: truncated variable-length integer")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
        if shift > 21:
            raise WireError("malformed packet: variable-length integer too long")


def _read_str(data: bytes, pos: int) -> tuple[str, int]:
    (n,) = struct.unpack_from("!H", data, pos)
    return data[pos + 2:pos + 2 + n].decode("utf-8", errors="replace"), pos + 2 + n


def parse_properties(data: bytes, pos: int) -> tuple[list[Property], int]:
    """The properties at `pos` (their length first) and the position after them."""
    length, pos = _read_varint(data, pos)
    end = pos + length
    props: list[Property] = []
    while pos < end:
        ident, pos = _read_varint(data, pos)
        kind = _PROP_TYPES.get(ident)
        value: object
        if kind == "byte":
            value, pos = data[pos], pos + 1
        elif kind == "int2":
            (value,), pos = struct.unpack_from("!H", data, pos), pos + 2
        elif kind == "int4":
            (value,), pos = struct.unpack_from("!I", data, pos), pos + 4
        elif kind == "varint":
            value, pos = _read_varint(data, pos)
        elif kind == "str":
            value, pos = _read_str(data, pos)
        elif kind == "bin":
            (n,) = struct.unpack_from("!H", data, pos)
            value, pos = bytes(data[pos + 2:pos + 2 + n]), pos + 2 + n
        elif kind == "pair":
            k, pos = _read_str(data, pos)
            v, pos = _read_str(data, pos)
            value = (k, v)
        else:
            raise WireError(f"malformed packet: unknown property {ident:#04x}")
        props.append((ident, value))
    return props, end


@dataclass
class Retained:
    """A retained message as a scan found it."""

    topic: str
    payload: bytes
    qos: int
    properties: list[Property] = field(default_factory=list)  # MQTT 5 only; never alias / subscription id

    def same(self, other: Retained) -> bool:
        """Same payload and properties (the message expiry interval counts down: not compared)."""
        def props(m: Retained) -> list[Property]:
            return [p for p in m.properties if p[0] != PROP_MESSAGE_EXPIRY]

        return self.payload == other.payload and props(self) == props(other)


def read_connack(body: bytes, protocol: int) -> int:
    if len(body) < 2:
        raise WireError("malformed CONNACK")
    return body[1]


# -- the client ------------------------------------------------------------------------------
class WireClient:
    """One blocking MQTT connection (clean session, keep-alive 0: the broker never times it out)."""

    def __init__(self, host: str, port: int, *, protocol: int = PROTOCOL_V311, user: str | None = None,
                 password: str | None = None, client_id: str | None = None, timeout: float = 5.0) -> None:
        self.host = host
        self.port = port
        self.protocol = protocol
        self.user = user
        self.password = password
        self.client_id = client_id or f"stackrig-{os.getpid()}-{os.urandom(4).hex()}"
        self.timeout = timeout
        self.sock: socket.socket | None = None
        self._buf = bytearray()
        self._next_id = 0

    # -- connection ----------------------------------------------------------------------
    def connect(self) -> None:
        self.close()
        sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock
        self._buf.clear()
        try:
            sock.sendall(connect_packet(self.client_id, self.protocol, self.user, self.password))
            kind, _, body = self._read(time.monotonic() + self.timeout)
            if kind != CONNACK:
                raise WireError(f"expected CONNACK, the broker sent packet type {kind}")
            code = read_connack(body, self.protocol)
            if code != 0:
                raise MqttRefused(code)
        except BaseException:
            self.close()
            raise

    def forget(self) -> None:
        """End this session and start a clean one with the same client id: the broker deletes the old
        session's subscriptions at once (amqtt then also forgets filters nobody else subscribes to,
        which an UNSUBSCRIBE never makes it do)."""
        self.close()
        self.connect()

    @property
    def connected(self) -> bool:
        return self.sock is not None

    def close(self) -> None:
        sock, self.sock = self.sock, None
        if sock is None:
            return
        try:
            sock.sendall(_packet(DISCONNECT << 4, b""))  # MQTT 5: no reason code means "normal"
        except OSError:
            pass
        sock.close()

    # -- packets -------------------------------------------------------------------------
    def _packet_id(self) -> int:
        self._next_id = self._next_id % 65535 + 1
        return self._next_id

    def _send(self, data: bytes) -> None:
        if self.sock is None:
            raise WireError("not connected")
        try:
            self.sock.sendall(data)
        except OSError as exc:
            self.close()
            raise WireError(f"sending to the broker failed: {exc}") from exc

    def _fill(self, deadline: float) -> None:
        assert self.sock is not None
        left = deadline - time.monotonic()
        if left <= 0:
            raise WireError(f"no answer from the broker within {self.timeout:g} s")
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(65536)
        except TimeoutError:
            raise WireError(f"no answer from the broker within {self.timeout:g} s") from None
        except OSError as exc:
            self.close()
            raise WireError(f"the connection to the broker broke: {exc}") from exc
        if not chunk:
            self.close()
            raise WireError("the broker closed the connection")
        self._buf += chunk

    def _read(self, deadline: float) -> tuple[int, int, bytes]:
        """The next packet: (type, flags, body)."""
        if self.sock is None:
            raise WireError("not connected")
        while True:
            buf = self._buf
            if len(buf) >= 2:
                length, shift, pos = 0, 0, 1
                complete = False
                while pos < len(buf) and pos <= 4:
                    byte = buf[pos]
                    length |= (byte & 0x7F) << shift
                    pos += 1
                    if not byte & 0x80:
                        complete = True
                        break
                    shift += 7
                if complete and len(buf) >= pos + length:
                    first = buf[0]
                    body = bytes(buf[pos:pos + length])
                    del buf[:pos + length]
                    return first >> 4, first & 0x0F, body
            self._fill(deadline)

    def _publish_in(self, flags: int, body: bytes) -> Retained | None:
        """An incoming PUBLISH, acknowledged as its QoS needs; the message when it is retained."""
        qos, retain = (flags >> 1) & 3, bool(flags & 1)
        topic, pos = _read_str(body, 0)
        packet_id = 0
        if qos:
            (packet_id,) = struct.unpack_from("!H", body, pos)
            pos += 2
        props: list[Property] = []
        if self.protocol == PROTOCOL_V5:
            props, pos = parse_properties(body, pos)
            props = [p for p in props if p[0] not in (PROP_SUBSCRIPTION_ID, PROP_TOPIC_ALIAS)]
        if qos == 1:
            self._send(_packet(PUBACK << 4, struct.pack("!H", packet_id)))
        elif qos == 2:
            self._send(_packet(PUBREC << 4, struct.pack("!H", packet_id)))
        if not retain:
            return None
        return Retained(topic, bytes(body[pos:]), qos, props)

    def _handle(self, kind: int, flags: int, body: bytes, found: dict[str, Retained] | None) -> None:
        """Packets that may arrive at any time."""
        if kind == PUBLISH:
            msg = self._publish_in(flags, body)
            if msg is not None and found is not None:
                found[msg.topic] = msg
        elif kind == PUBREL:
            self._send(_packet(PUBCOMP << 4, body[:2]))
        elif kind == PUBREC:  # our QoS 2 publish: release it
            self._send(_packet((PUBREL << 4) | 0x02, body[:2]))
        elif kind in (PUBACK, PUBCOMP, PINGRESP, SUBACK, UNSUBACK):
            pass
        elif kind == DISCONNECT:
            self.close()
            raise WireError("the broker sent DISCONNECT")
        else:
            raise WireError(f"unexpected packet type {kind} from the broker")

    def _wait_for(self, want: int, packet_id: int | None, deadline: float,
                  found: dict[str, Retained] | None = None) -> bytes:
        while True:
            kind, flags, body = self._read(deadline)
            if kind == want and (packet_id is None or struct.unpack_from("!H", body, 0)[0] == packet_id):
                return body
            self._handle(kind, flags, body, found)

    # -- operations -----------------------------------------------------------------------
    def _subscribe_packet(self, packet_id: int, topic_filter: str, qos: int) -> bytes:
        props = b"\x00" if self.protocol == PROTOCOL_V5 else b""
        return _packet((SUBSCRIBE << 4) | 0x02, struct.pack("!H", packet_id) + props + _str(topic_filter)
                       + bytes([qos]))

    def _unsubscribe_packet(self, packet_id: int, topic_filter: str) -> bytes:
        props = b"\x00" if self.protocol == PROTOCOL_V5 else b""
        return _packet((UNSUBSCRIBE << 4) | 0x02, struct.pack("!H", packet_id) + props + _str(topic_filter))

    def _check_suback(self, body: bytes, topic_filter: str) -> None:
        codes = body[2:]
        if self.protocol == PROTOCOL_V5:
            _, pos = parse_properties(body, 2)
            codes = body[pos:]
        if not codes or codes[0] >= 0x80:
            code = codes[0] if codes else -1
            raise WireError(f"the broker refused a subscription to {topic_filter!r} (reason code {code:#04x}); "
                            "the reset needs to read every retained message")

    def scan(self, topic_filter: str = "#", qos: int = 0, *, unsubscribe: bool = True) -> dict[str, Retained]:
        """The retained messages under `topic_filter`, by topic.

        One round trip: SUBSCRIBE and UNSUBSCRIBE in one write, then read until the UNSUBACK.
        The ordering this relies on: a broker handles one connection's SUBSCRIBE before its later
        UNSUBSCRIBE, and sends the retained messages a new subscription matches while handling the
        SUBSCRIBE — mosquitto queues them inside ``handle__subscribe`` and turns them into packets
        before it returns (the connection is idle, so nothing is half-written ahead of them); amqtt
        awaits their publication in ``_handle_subscription`` before its client loop takes the next
        SUBSCRIBE or UNSUBSCRIBE.  So every retained message the broker held when it took the
        SUBSCRIBE arrives before the UNSUBACK.  QoS 0 (the default) keeps them clear of in-flight
        windows: a QoS 1/2 message beyond a broker's in-flight limit would wait for acknowledgements
        and could come after the UNSUBACK.  Live messages that arrive meanwhile carry retain=0 (MQTT
        3.3.1-9: retain is set only on messages sent because of a new subscription) and are ignored.

        ``unsubscribe=False`` (amqtt): the UNSUBSCRIBE is replaced by a SUBSCRIBE to a filter that
        matches nothing, and the barrier is its SUBACK.  amqtt never forgets a filter someone
        unsubscribed from, and sends every new connection the retained messages of every filter it
        knows — an UNSUBSCRIBE of ``#`` would make each later connection of the application receive
        all retained messages.  A filter still subscribed when its clean session ends is forgotten,
        so that connection must be closed after the scan (the reset does)."""
        sub_id, end_id = self._packet_id(), self._packet_id()
        if unsubscribe:
            tail = self._unsubscribe_packet(end_id, topic_filter)
        else:
            tail = self._subscribe_packet(end_id, f"$stackrig/barrier/{self.client_id}", 0)
        self._send(self._subscribe_packet(sub_id, topic_filter, qos) + tail)
        deadline = time.monotonic() + self.timeout
        found: dict[str, Retained] = {}
        self._check_suback(self._wait_for(SUBACK, sub_id, deadline, found), topic_filter)
        self._wait_for(UNSUBACK if unsubscribe else SUBACK, end_id, deadline, found)
        return found

    def collect(self, topic_filter: str, qos: int, want: set[str]) -> dict[str, Retained]:
        """Subscribe to `topic_filter` at `qos` and read until the retained messages of every topic in
        `want` arrived (acknowledging QoS 1/2 ones): what a QoS 0 scan cannot tell, their QoS.  Only
        what comes after the SUBACK counts (amqtt sends a new connection retained messages of other
        clients' filters before, at QoS 0).  For a connection of its own, closed afterwards."""
        sub_id = self._packet_id()
        self._send(self._subscribe_packet(sub_id, topic_filter, qos))
        deadline = time.monotonic() + self.timeout
        self._check_suback(self._wait_for(SUBACK, sub_id, deadline, {}), topic_filter)
        found: dict[str, Retained] = {}
        while not want <= found.keys():
            kind, flags, body = self._read(deadline)
            self._handle(kind, flags, body, found)
        return found

    def publish(self, messages: list[Retained], retain: bool = True) -> None:
        """Publish `messages` (an empty payload clears a retained topic); returns when every QoS 1/2
        one is acknowledged (QoS 0 ones are only written: a later scan on this connection orders
        after them on mosquitto; see the reset for amqtt)."""
        out = bytearray()
        pending: list[tuple[int, int]] = []
        for msg in messages:
            body = bytearray(_str(msg.topic))
            if msg.qos:
                pid = self._packet_id()
                body += struct.pack("!H", pid)
                pending.append((PUBACK if msg.qos == 1 else PUBCOMP, pid))
            if self.protocol == PROTOCOL_V5:
                body += encode_properties(msg.properties)
            body += msg.payload
            out += _packet((PUBLISH << 4) | (msg.qos << 1) | (1 if retain else 0), bytes(body))
        self._send(bytes(out))
        deadline = time.monotonic() + self.timeout
        for want, pid in pending:
            self._wait_for(want, pid, deadline)

    def ping(self) -> float:
        """One PINGREQ/PINGRESP round trip; its duration in seconds."""
        start = time.monotonic()
        self._send(_packet(PINGREQ << 4, b""))
        self._wait_for(PINGRESP, None, start + self.timeout)
        return time.monotonic() - start

    def __enter__(self) -> WireClient:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
