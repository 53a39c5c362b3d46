"""What `rig` hands tests for a rabbitmq service: taps, publishing (`"events"`), queues (`"queues"`).

Everything runs on aio-pika, on one asyncio loop thread per client (`LoopThread`), connected to the
service's ``direct_url`` (never through the fault proxy; it works as well when the test process
only attached to a stack another process runs).

A tap is a copy: an exclusive, auto-delete, server-named queue of its own bound to the exchange,
so the application's queues still get every message.  How the pattern is used depends on the
exchange's type (asked of the node):

* topic: the binding key (``*`` one word, ``#`` zero or more);
* fanout: the binding takes everything; the pattern filters routing keys in the tap;
* headers: bound with the tap's ``headers=`` (``x_match="all" | "any"``); the pattern filters
  routing keys in the tap;
* direct: an exact pattern is the binding key; a pattern with wildcards, another type (``x-...``)
  or the default exchange (``exchange=""``, subject = queue name) reads the firehose instead
  (``amq.rabbitmq.trace``, which stackrig turns on for its vhosts): every message *published* to
  the exchange, routed or not, filtered by routing key.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ...errors import StackrigError
from ...events import Event, LoopThread, Tap, amqp_topic, encode_body, options_limit
from ...services import Endpoint

__all__ = ["RabbitEvents", "connect_events", "PROPERTIES", "event_from_message", "event_from_trace"]

# Event.headers names of the AMQP basic properties -> aio-pika Message keyword
PROPERTIES = {
    "content-type": "content_type", "content-encoding": "content_encoding", "message-id": "message_id",
    "correlation-id": "correlation_id", "reply-to": "reply_to", "type": "type", "app-id": "app_id",
    "user-id": "user_id", "expiration": "expiration", "priority": "priority", "timestamp": "timestamp",
    "delivery-mode": "delivery_mode",
}
_TAP_OPTIONS = ("exchange", "limit", "headers", "x_match")
_PUBLISH_OPTIONS = ("exchange", "persistent", "mandatory", "timeout")
TRACE_EXCHANGE = "amq.rabbitmq.trace"


def _aio_pika() -> Any:
    try:
        import aio_pika
    except ImportError:
        raise StackrigError("rig.events(), rig.publish() and rig.queue() on a rabbitmq service need aio-pika",
                            hint="pip install aio-pika (or 'stackrig[brokers]')") from None
    return aio_pika


def _text(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_text(v) for v in value]
    return value


def _header_value(value: Any) -> str:
    value = _text(value)
    if isinstance(value, dict | list):
        import json

        return json.dumps(value, default=str)
    return value if isinstance(value, str) else str(value)


def event_from_message(message: Any) -> Event:
    """An aio-pika IncomingMessage as an Event: properties and application headers in `headers`."""
    app = {str(k): v for k, v in (message.headers or {}).items()}
    headers: dict[str, str] = {k: _header_value(v) for k, v in app.items()}
    for name, attr in PROPERTIES.items():
        value = getattr(message, attr, None)
        if value is None:
            continue
        if name == "delivery-mode":
            value = int(value)
        elif name == "expiration":  # aio-pika decodes it to seconds; on the wire it is milliseconds
            value = str(int(round(float(value) * 1000)))
        headers[name] = _header_value(value)
    mode = message.delivery_mode
    meta = {"exchange": message.exchange or "", "routing_key": message.routing_key or "",
            "redelivered": bool(message.redelivered), "delivery_mode": int(mode) if mode is not None else None,
            "headers": _text(app)}
    return Event(message.routing_key or "", message.body, headers, meta=meta)


def event_from_trace(message: Any) -> Event | None:
    """A firehose copy (``publish.<exchange>`` on amq.rabbitmq.trace) as the Event it traced."""
    h = message.headers or {}
    keys = [_text(k) for k in (h.get("routing_keys") or [])]
    props = {str(k): v for k, v in (h.get("properties") or {}).items()}
    app = {str(k): v for k, v in (props.pop("headers", None) or {}).items()}
    headers: dict[str, str] = {k: _header_value(v) for k, v in app.items()}
    for key, value in props.items():
        headers[key.replace("_", "-")] = _header_value(value)
    mode = props.get("delivery_mode")
    routed = [_text(q) for q in (h.get("routed_queues") or [])]
    meta = {"exchange": _text(h.get("exchange_name", "")), "routing_key": keys[0] if keys else "",
            "routing_keys": keys, "redelivered": False, "delivery_mode": int(mode) if mode is not None else None,
            "routed_queues": routed, "headers": _text(app), "firehose": True,
            "user": _text(h.get("user", "")), "connection": _text(h.get("connection", ""))}
    return Event(keys[0] if keys else "", message.body, headers, meta=meta)


def _message_properties(headers: Mapping[str, Any] | None, content_type: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(aio-pika Message keywords, application headers) from a test's `headers`."""
    props: dict[str, Any] = {"content_type": content_type}
    app: dict[str, Any] = {}
    for key, value in (headers or {}).items():
        attr = PROPERTIES.get(str(key).lower())
        if attr is None:
            app[str(key)] = value
        elif attr in ("priority", "delivery_mode"):
            props[attr] = int(value)
        elif attr == "timestamp":
            props[attr] = value if isinstance(value, datetime | int | float) else float(value)
        elif attr == "expiration":  # AMQP: milliseconds, as a string; aio-pika: seconds
            props[attr] = float(value) / 1000
        else:
            props[attr] = str(value)
    return props, app


class _Connection:
    """One aio-pika connection on a loop thread, (re)opened on demand; `on_lost` hears of its end."""

    def __init__(self, endpoint: Endpoint, name: str) -> None:
        self.service = endpoint.name
        self.url = endpoint.direct_url
        self.attributes = dict(endpoint.attributes)
        self.vhost = self.attributes.get("vhost", "/")
        self.name = name
        self._loop: LoopThread | None = None
        self._conn: Any = None
        self._lock = threading.Lock()
        self.listeners: list[Any] = []  # callables(exc) told when the connection is lost

    @property
    def loop(self) -> LoopThread:
        if self._loop is None:
            self._loop = LoopThread(f"stackrig-{self.name}-{self.service}")
        return self._loop

    def run(self, coro: Any, timeout: float | None = 30.0) -> Any:
        try:
            return self.loop.run(coro, timeout)
        except TimeoutError:
            raise StackrigError(f"service '{self.service}': no answer from RabbitMQ within {timeout:g} s",
                                hint="is the broker stopped or overloaded? (see its log: rig[...].logs())") from None

    async def connection(self) -> Any:
        aio_pika = _aio_pika()
        if self._conn is None or self._conn.is_closed:
            try:
                conn = await aio_pika.connect(self.url, timeout=10,
                                              client_properties={"connection_name": f"stackrig {self.name}"})
            except Exception as exc:  # noqa: BLE001 - said, with the URL
                raise StackrigError(f"service '{self.service}': cannot connect to RabbitMQ at "
                                    f"{_safe(self.url)}: {type(exc).__name__}: {exc}",
                                    hint="is the broker running? (rig[...].start() after a stop)") from exc
            conn.close_callbacks.add(self._closed)
            self._conn = conn
        return self._conn

    async def channel(self, **options: Any) -> Any:
        """A new channel (on a new connection when the last one went away meanwhile)."""
        for attempt in (1, 2):
            conn = await self.connection()
            try:
                return await conn.channel(**options)
            except (RuntimeError, ConnectionError) as exc:
                self._conn = None
                if attempt == 2:
                    raise StackrigError(f"service '{self.service}': cannot open a channel to RabbitMQ at "
                                        f"{_safe(self.url)}: {type(exc).__name__}: {exc}") from exc
        raise AssertionError("unreachable")

    def _closed(self, sender: Any, exc: BaseException | None = None) -> None:
        if exc is None or isinstance(exc, asyncio.CancelledError):
            return
        for listener in list(self.listeners):
            listener(exc)

    def close(self) -> None:
        conn, self._conn = self._conn, None
        loop, self._loop = self._loop, None
        if loop is None:
            return
        if conn is not None and not conn.is_closed:
            try:
                conn.close_callbacks.discard(self._closed)
                loop.run(conn.close(), 5)
            except Exception:  # noqa: BLE001, S110 - the broker may be gone already; nothing is lost
                pass
        loop.close()


def _safe(url: str) -> str:
    """A URL without its password, for messages."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@", 1)
    return url


class RabbitEvents:
    """The ``"events"`` capability: ``tap(pattern, exchange=..., limit=..., headers=..., x_match=...)``
    and ``publish(subject, body, headers=None, exchange=..., persistent=False, mandatory=True)``."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.conn = _Connection(endpoint, "events")
        self.service = endpoint.name
        self.default_exchange = self.conn.attributes.get("tap_exchange", "amq.topic")  # "": the default exchange
        self._taps: dict[int, tuple[Tap, Any]] = {}
        self._publisher: Any = None
        self._types: dict[str, str] = {"amq.direct": "direct", "amq.fanout": "fanout", "amq.topic": "topic",
                                       "amq.headers": "headers", "amq.match": "headers", TRACE_EXCHANGE: "topic"}
        self.conn.listeners.append(self._lost)

    # -- taps ------------------------------------------------------------------------------
    def tap(self, pattern: str, **options: Any) -> Tap:
        unknown = sorted(set(options) - set(_TAP_OPTIONS))
        if unknown:
            raise StackrigError(f"rig.events({self.service!r}, ...): unknown option {', '.join(unknown)}; a rabbitmq "
                                f"tap takes {', '.join(_TAP_OPTIONS)}")
        limit = options_limit(options)
        exchange = options.get("exchange", self.default_exchange)
        if not isinstance(exchange, str):
            raise StackrigError(f"tap option exchange={exchange!r}: expected an exchange name (\"\" for the "
                                "default exchange)")
        headers = options.get("headers")
        x_match = options.get("x_match", "all")
        if x_match not in ("all", "any"):
            raise StackrigError(f"tap option x_match={x_match!r}: expected \"all\" or \"any\"")
        kind = self._exchange_type(exchange)
        if headers is not None and kind != "headers":
            raise StackrigError(f"tap option headers=: exchange {exchange!r} is a {kind} exchange; headers= binds "
                                "to a headers exchange")
        firehose = exchange == "" or kind not in ("topic", "fanout", "headers", "direct") or (
            kind == "direct" and any(w in ("*", "#") for w in pattern.split(".")))
        if firehose:
            where = f"firehose copies of what is published to exchange {exchange!r}"
        elif kind == "topic":
            where = f"exchange {exchange!r} (topic), binding key {pattern!r}"
        elif kind == "direct":
            where = f"exchange {exchange!r} (direct), binding key {pattern!r}"
        else:
            where = f"exchange {exchange!r} ({kind}), routing keys filtered by {pattern!r}"
        tap = Tap(self.service, pattern, subject_matches=amqp_topic, limit=limit, where=where,
                  on_close=lambda: self._unsubscribe(tap))
        self._taps[id(tap)] = (tap, None)
        try:
            channel = self.conn.run(self._subscribe(tap, exchange, kind, pattern, firehose, headers, x_match))
        except BaseException:
            self._taps.pop(id(tap), None)
            raise
        self._taps[id(tap)] = (tap, channel)
        return tap

    def _exchange_type(self, exchange: str) -> str:
        if exchange == "":
            return "direct"
        if exchange in self._types:
            return self._types[exchange]
        from ._helper import ControlClient

        attrs = self.conn.attributes
        if not attrs.get("control_port"):
            return "topic"
        control = ControlClient(int(attrs["control_port"]), attrs.get("control_token", ""), service=self.service)
        try:
            reply = control.call("exchange", vhost=self.conn.vhost, name=exchange)
        finally:
            control.close()
        if not reply.get("exists"):
            raise StackrigError(f"rig.events({self.service!r}, ...): exchange {exchange!r} does not exist in vhost "
                                f"{self.conn.vhost!r}", hint="declare it in the stack file's `exchanges` (or the "
                                                             "definitions file), or tap the exchange the app uses")
        kind = str(reply.get("type", "topic"))
        self._types[exchange] = kind
        return kind

    async def _subscribe(self, tap: Tap, exchange: str, kind: str, pattern: str, firehose: bool,
                         headers: Mapping[str, Any] | None, x_match: str) -> Any:
        channel = await self.conn.channel()
        queue = await channel.declare_queue("", exclusive=True, auto_delete=True)
        if firehose:
            await queue.bind(TRACE_EXCHANGE, routing_key=f"publish.{exchange}")
        elif kind == "headers":
            await queue.bind(exchange, routing_key="", arguments={"x-match": x_match, **dict(headers or {})})
        elif kind == "fanout":
            await queue.bind(exchange, routing_key="")
        else:
            await queue.bind(exchange, routing_key=pattern)
        everything = pattern in ("#", "") and kind != "direct"
        exact_queue = exchange == "" and firehose

        async def on_message(message: Any) -> None:
            try:
                event = event_from_trace(message) if firehose else event_from_message(message)
                if event is None:
                    return
                if firehose and event.meta.get("exchange") != exchange:
                    return
                if not everything and not (amqp_topic(pattern, event.subject) or
                                           (exact_queue and pattern == event.subject)):
                    return
                tap.feed(event)
            except Exception as exc:  # noqa: BLE001 - the test hears of it
                tap.fail(exc)

        await queue.consume(on_message, no_ack=True)
        channel.close_callbacks.add(lambda sender, exc=None: self._channel_closed(tap, exc))
        return channel

    def _channel_closed(self, tap: Tap, exc: BaseException | None) -> None:
        if exc is None or isinstance(exc, asyncio.CancelledError) or id(tap) not in self._taps:
            return
        if isinstance(exc, ConnectionError):  # aiormq's ConnectionClosed and friends
            tap.fail(ConnectionError(f"the connection to RabbitMQ was lost: {exc}"))
        else:
            tap.fail(ConnectionError(f"RabbitMQ closed the tap's channel: {exc}"))

    def _lost(self, exc: BaseException) -> None:
        for tap, _ in list(self._taps.values()):
            tap.fail(ConnectionError(f"the connection to RabbitMQ was lost: {exc}"))
        self._publisher = None

    def _unsubscribe(self, tap: Tap) -> None:
        _, channel = self._taps.pop(id(tap), (None, None))
        if channel is None or channel.is_closed:
            return
        try:
            self.conn.run(channel.close(), 5)
        except Exception:  # noqa: BLE001, S110 - the broker may be gone already; the queue went with it
            pass

    # -- publish ----------------------------------------------------------------------------
    def publish(self, subject: str, body: Any, headers: Mapping[str, str] | None = None, **options: Any) -> None:
        unknown = sorted(set(options) - set(_PUBLISH_OPTIONS))
        if unknown:
            raise StackrigError(f"rig.publish({self.service!r}, ...): unknown option {', '.join(unknown)}; a rabbitmq "
                                f"publish takes {', '.join(_PUBLISH_OPTIONS)}")
        exchange = options.get("exchange", self.default_exchange)
        raw, content_type = encode_body(body)
        props, app = _message_properties(headers, content_type)
        if options.get("persistent"):
            props.setdefault("delivery_mode", 2)
        mandatory = bool(options.get("mandatory", True))
        timeout = float(options.get("timeout", 10.0))
        self.conn.run(self._publish(exchange, subject, raw, props, app, mandatory), timeout + 1)

    async def _publish(self, exchange: str, subject: str, raw: bytes, props: dict[str, Any], app: dict[str, Any],
                       mandatory: bool) -> None:
        aio_pika = _aio_pika()
        if self._publisher is None or self._publisher.is_closed:
            self._publisher = await self.conn.channel(publisher_confirms=True, on_return_raises=True)
        channel = self._publisher
        target = channel.default_exchange if exchange == "" else await channel.get_exchange(exchange, ensure=False)
        message = aio_pika.Message(raw, headers=app or None, **props)
        try:
            await target.publish(message, routing_key=subject, mandatory=mandatory)
        except aio_pika.exceptions.DeliveryError as exc:
            raise StackrigError(
                f"rig.publish({self.service!r}, {subject!r}): exchange {exchange!r} routed it to no queue "
                f"(vhost {self.conn.vhost!r})" + (f": {exc}" if str(exc) else ""),
                hint="bind a queue for this routing key (or make a tap first), publish to another exchange "
                     "(exchange=...), or pass mandatory=False to allow it") from None
        except aio_pika.exceptions.ChannelClosed as exc:
            self._publisher = None
            raise StackrigError(f"rig.publish({self.service!r}, {subject!r}): RabbitMQ refused it: {exc}",
                                hint=f"does exchange {exchange!r} exist in vhost {self.conn.vhost!r}?") from None

    def close(self) -> None:
        for tap, _ in list(self._taps.values()):
            tap.close()
        self._taps.clear()
        self.conn.close()


def connect_events(endpoint: Endpoint) -> RabbitEvents:
    _aio_pika()
    return RabbitEvents(endpoint)
