"""Taps and publishing on a redis service: pub/sub channel patterns, and streams.

``rig.events("cache", "orders:*")`` PSUBSCRIBEs (glob patterns, as Redis matches them): every
subscriber gets every message, so the tap takes nothing from the application.
``rig.events("cache", "orders", stream=True)`` reads the stream from its last entry at the moment
the tap is made (``XREAD BLOCK`` from that id): no consumer group, so the application's groups are
untouched.  A stream entry's body is its field map; `meta` has its id.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import Any

from ...errors import StackrigError
from ...events import Event, Tap, encode_body, exact, glob, options_limit
from ...services import Endpoint

__all__ = ["RedisEvents"]


def _redis() -> Any:
    try:
        import redis
    except ImportError:
        raise StackrigError("taps on redis need redis-py", hint="pip install redis") from None
    return redis


def _text(value: Any) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)


class RedisEvents:
    """The ``"events"`` capability of a redis service."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self._client: Any = None

    def _new(self) -> Any:
        return _redis().Redis.from_url(self.endpoint.direct_url, socket_keepalive=True)

    def _publisher(self) -> Any:
        if self._client is None:
            self._client = self._new()
        return self._client

    def tap(self, pattern: str, **options: Any) -> Tap:
        stream = bool(options.pop("stream", False))
        limit = options_limit(options)
        options.pop("limit", None)
        if options:
            raise StackrigError(f"rig.events({self.endpoint.name!r}, {pattern!r}): unknown option(s) "
                                f"{', '.join(options)}", hint="a redis tap takes stream=True and limit=N")
        return self._stream_tap(pattern, limit) if stream else self._channel_tap(pattern, limit)

    def _channel_tap(self, pattern: str, limit: int) -> Tap:
        client = self._new()
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        pubsub.psubscribe(pattern)
        stop = threading.Event()

        def close() -> None:
            stop.set()
            try:
                pubsub.punsubscribe()
                pubsub.close()
            finally:
                client.close()

        tap = Tap(self.endpoint.name, pattern, subject_matches=glob, limit=limit, on_close=close,
                  where="PSUBSCRIBE")
        # psubscribe() only sends; the subscription is active once its confirmation is read, which
        # must happen before rig.events() returns ("capture starts now")
        pubsub.ignore_subscribe_messages = False
        confirm = pubsub.get_message(timeout=5)
        pubsub.ignore_subscribe_messages = True
        if confirm is None or confirm.get("type") != "psubscribe":
            close()
            raise StackrigError(f"rig.events({self.endpoint.name!r}, {pattern!r}): redis did not confirm the "
                                f"subscription (got {confirm!r})")

        def listen() -> None:
            try:
                while not stop.is_set():
                    msg = pubsub.get_message(timeout=1.0)
                    if msg is None or msg.get("type") not in ("pmessage", "message"):
                        continue
                    tap.feed(Event(_text(msg["channel"]), msg["data"] if isinstance(msg["data"], bytes)
                                   else _text(msg["data"]).encode(), meta={"pattern": pattern}))
            except Exception as exc:  # noqa: BLE001 - the test hears about it
                if not stop.is_set():
                    tap.fail(exc)

        threading.Thread(target=listen, name=f"stackrig-tap-{self.endpoint.name}", daemon=True).start()
        return tap

    def _stream_tap(self, key: str, limit: int) -> Tap:
        client = self._new()
        last = client.xrevrange(key, count=1)
        start = _text(last[0][0]) if last else "0-0"
        stop = threading.Event()

        def close() -> None:
            stop.set()
            client.close()

        tap = Tap(self.endpoint.name, key, subject_matches=exact, limit=limit, on_close=close,
                  where=f"stream read from {start}")

        def read() -> None:
            cursor = start
            try:
                while not stop.is_set():
                    found = client.xread({key: cursor}, block=500, count=100)
                    for _, entries in found or []:
                        for entry_id, fields in entries:
                            cursor = _text(entry_id)
                            decoded = {_text(k): _text(v) for k, v in fields.items()}
                            tap.feed(Event(key, json.dumps(decoded).encode(), meta={"id": cursor, "fields": decoded}))
            except Exception as exc:  # noqa: BLE001 - the test hears about it
                if not stop.is_set():
                    tap.fail(exc)

        threading.Thread(target=read, name=f"stackrig-tap-{self.endpoint.name}-{key}", daemon=True).start()
        return tap

    def publish(self, subject: str, body: Any, headers: Mapping[str, str] | None = None, **options: Any) -> None:
        stream = bool(options.pop("stream", False))
        if options or headers:
            what = ", ".join([*options, *(["headers"] if headers else [])])
            raise StackrigError(f"rig.publish({self.endpoint.name!r}, {subject!r}): redis has no {what}",
                                hint="redis publishes a payload (or, with stream=True, a field map)")
        client = self._publisher()
        if stream:
            if isinstance(body, Mapping) and all(isinstance(v, str | int | float | bytes) for v in body.values()):
                fields = {str(k): v for k, v in body.items()}
            else:
                fields = {"data": encode_body(body)[0]}
            client.xadd(subject, fields)
        else:
            client.publish(subject, encode_body(body)[0])

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
