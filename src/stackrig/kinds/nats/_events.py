"""Taps and publishing on a NATS service: ``rig.events(name, pattern)``, ``rig.publish(...)``.

A tap is a plain core-NATS subscription of its own (never a queue group, never a JetStream
consumer), so the server hands it a *copy* of every message on the pattern and every
application subscriber, queue group and stream still gets its own.  One connection per service
(on the test's back door, ``direct_url``) carries every tap's subscription and the publishes;
its reader thread feeds the taps.  A tap exists on the server when ``rig.events()`` returns
(the subscription is flushed: PING answered by PONG).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from ...errors import StackrigError
from ...events import Event, EventNotSeen, Tap, encode_body, nats_subject, options_limit
from ...services import Endpoint
from ._connection import Connection
from ._jetstream import JetStreamAdmin
from ._wire import Address, Msg, NatsError, check_subject

__all__ = ["NatsEvents", "NatsTap", "events", "jetstream", "to_event"]

TAP_OPTIONS = ("limit",)
PUBLISH_OPTIONS = ("jetstream", "reply", "msg_id", "expect_stream", "timeout")


class NatsTap(Tap):
    """A :class:`~stackrig.events.Tap` that also remembers when its connection was down (what
    was published then never reached it): a failed wait says so."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.gaps: list[tuple[float, float | None, str]] = []  # (from, to or None, why), time.time()

    def disconnected(self, when: float, why: str) -> None:
        with self._cond:
            self.gaps.append((when, None, why))

    def reconnected(self, when: float) -> None:
        with self._cond:
            if self.gaps and self.gaps[-1][1] is None:
                start, _, why = self.gaps[-1]
                self.gaps[-1] = (start, when, why)

    def _gap_note(self) -> str:
        if not self.gaps:
            return ""
        parts = []
        for start, end, why in self.gaps:
            until = f"+{end - self.created:.3f} s" if end is not None else "now (reconnecting)"
            parts.append(f"from +{start - self.created:.3f} s to {until} ({why})")
        return ("\n  the tap's connection to the server was down " + "; ".join(parts) +
                ": what was published meanwhile never reached it (core NATS keeps nothing for absent subscribers)")

    def _not_seen(self, want: Any, timeout: float) -> EventNotSeen:
        err = super()._not_seen(want, timeout)
        note = self._gap_note()
        if not note:
            return err
        return EventNotSeen(err.message + note, service=err.service, seen=err.seen, hint=err.hint)

    def describe(self, last: int = 30) -> str:
        return super().describe(last) + self._gap_note()


def _ack_meta(reply: str) -> dict[str, Any]:
    """What a JetStream delivery's reply subject tells: `$JS.ACK.<stream>.<consumer>.<delivered>.
    <stream seq>.<consumer seq>.<timestamp ns>.<pending>` (and the v2 form with domain and account)."""
    tokens = reply.split(".")
    if len(tokens) == 9:
        stream, consumer, delivered, sseq, cseq, ts, pending = tokens[2:9]
        domain = None
    elif len(tokens) >= 12:
        domain = tokens[2] if tokens[2] != "_" else None
        stream, consumer, delivered, sseq, cseq, ts, pending = tokens[4:11]
    else:
        return {}
    try:
        meta: dict[str, Any] = {"stream": stream, "consumer": consumer, "delivered": int(delivered),
                                "stream_seq": int(sseq), "consumer_seq": int(cseq), "pending": int(pending),
                                "published": int(ts) / 1e9}
    except ValueError:
        return {}
    if domain:
        meta["domain"] = domain
    return meta


def to_event(msg: Msg, streams: list[tuple[str, list[str]]]) -> Event:
    """A captured message as an :class:`Event`; `meta`: ``reply``, and ``status``/``description``
    for a status message; ``stream`` (and for a JetStream delivery or a republished message its
    sequence numbers) when the message is in a stream."""
    meta: dict[str, Any] = {"reply": msg.reply}
    headers = msg.headers or {}
    if msg.status is not None:
        meta["status"] = msg.status
        meta["description"] = msg.description
    if msg.reply is not None and msg.reply.startswith("$JS.ACK."):
        meta.update(_ack_meta(msg.reply))
    elif "Nats-Stream" in headers:  # republished by a stream
        meta["stream"] = headers["Nats-Stream"]
        try:
            meta["stream_seq"] = int(headers.get("Nats-Sequence", ""))
        except ValueError:
            pass
    else:
        for name, subjects in streams:
            if any(nats_subject(s, msg.subject) for s in subjects):
                meta["stream"] = name  # a stream stores this subject (as far as the tap knew its streams)
                break
    return Event(msg.subject, msg.data, headers, meta=meta)


def _http_json(url: str, path: str, timeout: float = 2.0) -> Any:
    """GET `path` from the monitoring port (HTTP/1.0 on a socket: no http.client import)."""
    parts = urlsplit(url)
    assert parts.hostname and parts.port
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(f"GET {path} HTTP/1.0\r\nHost: {parts.hostname}\r\n\r\n".encode())
        chunks = []
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.") or head.split(b" ", 2)[1] != b"200":
        raise NatsError(f"{url}{path} answered {head[:60]!r}")
    return json.loads(body)


class NatsEvents:
    """The ``"events"`` capability of a NATS service (see the module docs)."""

    def __init__(self, endpoint: Endpoint, *, reconnect_window: float = 30.0) -> None:
        self.service = endpoint.name
        self.url = endpoint.direct_url
        attributes = endpoint.attributes
        self.monitor_url = attributes.get("monitor_url", "")
        self.jetstream = attributes.get("jetstream") == "true"
        self.reconnect_window = reconnect_window
        self._conn: Connection | None = None
        self._taps: dict[int, NatsTap] = {}
        self._lock = threading.Lock()

    @property
    def address(self) -> Address:
        return Address.parse(self.url)

    # -- the connection -----------------------------------------------------------------
    def _connection(self, what: str) -> Connection:
        conn = self._conn
        if conn is not None and not conn.closed:
            return conn
        conn = Connection(self.url, name=f"stackrig-events-{self.service}", reconnect_window=self.reconnect_window,
                          on_event=self._on_event)
        try:
            conn.connect()
        except (OSError, NatsError) as exc:
            raise StackrigError(f"{what}: cannot connect to service '{self.service}' at {self.address}: {exc}",
                                hint=f"is '{self.service}' running? (`stackrig status`; a test that stopped it "
                                     f"must start it again: rig['{self.service}'].start())") from None
        self._conn = conn
        return conn

    def _on_event(self, kind: str, detail: str) -> None:
        now = time.time()
        with self._lock:
            taps = list(self._taps.values())
        for tap in taps:
            if kind == "disconnected":
                tap.disconnected(now, detail)
            elif kind == "reconnected":
                tap.reconnected(now)
            elif kind == "lost":
                tap.fail(NatsError(detail))
            elif kind == "error":
                tap.fail(NatsError(f"the server sent -ERR '{detail}' on the taps' connection"))

    def _streams(self) -> list[tuple[str, list[str]]]:
        """The streams and their subjects, from the monitoring port (which, unlike the JetStream API,
        does not count in the account's API statistics the per-test reset watches)."""
        if not self.jetstream or not self.monitor_url:
            return []
        try:
            jsz = _http_json(self.monitor_url, "/jsz?accounts=true&streams=true&config=true")
        except (OSError, ValueError, NatsError):
            return []  # only `meta["stream"]` is missing: not worth failing a tap for
        found: list[tuple[str, list[str]]] = []
        for account in jsz.get("account_details") or []:
            for stream in account.get("stream_detail") or []:
                config = stream.get("config") or {}
                found.append((str(stream.get("name")), [str(s) for s in config.get("subjects") or []]))
        return found

    # -- taps ---------------------------------------------------------------------------
    def tap(self, pattern: str, **options: Any) -> Tap:
        what = f"rig.events({self.service!r}, {pattern!r})"
        unknown = sorted(set(options) - set(TAP_OPTIONS))
        if unknown:
            raise StackrigError(f"{what}: unknown option {', '.join(unknown)}; a NATS tap takes: "
                                f"{', '.join(TAP_OPTIONS)}",
                                hint="a tap is a core NATS subscription on the pattern: it has no queue group, "
                                     "stream or consumer options")
        check_subject(pattern, wildcards=True, what=f"{what}: the pattern")
        limit = options_limit(options)
        conn = self._connection(what)
        streams = self._streams()
        sid_box: list[int] = []
        tap = NatsTap(self.service, pattern, subject_matches=nats_subject, limit=limit,
                      on_close=lambda: self._untap(sid_box[0]) if sid_box else None,
                      where="core NATS subscription")

        def handler(msg: Msg) -> None:
            try:
                tap.feed(to_event(msg, streams))
            except Exception as exc:  # noqa: BLE001 - the test hears it through the tap
                tap.fail(exc)

        sid = conn.subscribe(pattern, handler)
        sid_box.append(sid)
        with self._lock:
            self._taps[sid] = tap
        try:
            conn.flush()
        except NatsError as exc:
            self._untap(sid)
            raise StackrigError(f"{what}: the server did not accept the subscription: {exc}",
                                hint="with `user`/`password`, check the account's subscribe permissions") from None
        return tap

    def _untap(self, sid: int) -> None:
        with self._lock:
            self._taps.pop(sid, None)
        conn = self._conn
        if conn is not None:
            conn.unsubscribe(sid)

    # -- publishing ---------------------------------------------------------------------
    def publish(self, subject: str, body: Any, headers: Mapping[str, str] | None = None, **options: Any) -> None:
        """Publish one message through core NATS (flushed: the server has it when this returns).

        Options: ``reply=`` (a reply subject), ``jetstream=True`` (a JetStream publish: waits for
        the stream's ack and raises when no stream takes the subject or the stream refuses it),
        ``msg_id=`` (``Nats-Msg-Id``, JetStream's de-duplication), ``expect_stream=``
        (``Nats-Expected-Stream``), ``timeout=`` (seconds, default 5)."""
        what = f"rig.publish({self.service!r}, {subject!r})"
        unknown = sorted(set(options) - set(PUBLISH_OPTIONS))
        if unknown:
            raise StackrigError(f"{what}: unknown option {', '.join(unknown)}; a NATS publish takes: "
                                f"{', '.join(PUBLISH_OPTIONS)}")
        check_subject(subject, wildcards=False, what=f"{what}: the subject")
        jetstream = bool(options.get("jetstream", False))
        reply = options.get("reply")
        if jetstream and reply is not None:
            raise StackrigError(f"{what}: reply= and jetstream=True do not go together (the stream's ack is the "
                                "reply of a JetStream publish)")
        if reply is not None:
            check_subject(str(reply), wildcards=False, what=f"{what}: the reply subject")
        timeout = float(options.get("timeout", 5.0))
        raw, content_type = encode_body(body)
        sent: dict[str, str] = {str(k): str(v) for k, v in (headers or {}).items()}
        if not any(k.lower() == "content-type" for k in sent):
            sent["content-type"] = content_type
        if options.get("msg_id") is not None:
            sent["Nats-Msg-Id"] = str(options["msg_id"])
        if options.get("expect_stream") is not None:
            sent["Nats-Expected-Stream"] = str(options["expect_stream"])
        conn = self._connection(what)
        try:
            if not jetstream:
                conn.publish(subject, raw, sent, reply)
                conn.flush(timeout)
                return
            answer = conn.request(subject, raw, sent, timeout)
        except NatsError as exc:
            raise StackrigError(f"{what}: {exc.message}", hint=exc.hint) from None
        self._check_ack(what, subject, answer)

    def _check_ack(self, what: str, subject: str, answer: Msg) -> None:
        if answer.status == "503":
            hint = (f"declare a stream whose subjects match {subject!r} in [services.{self.service}] `streams`, "
                    "or publish without jetstream=True" if self.jetstream
                    else f"set `jetstream = true` in [services.{self.service}] and declare a stream for it")
            raise StackrigError(f"{what}, jetstream=True: no stream takes subject {subject!r}", hint=hint)
        try:
            ack = json.loads(answer.data)
        except ValueError:
            raise StackrigError(f"{what}, jetstream=True: the answer was not a JetStream ack: "
                                f"{answer.data[:200]!r}") from None
        error = ack.get("error") if isinstance(ack, dict) else None
        if error:
            raise StackrigError(f"{what}, jetstream=True: JetStream refused the message: "
                                f"{error.get('description', error)} (err_code {error.get('err_code')})")

    def close(self) -> None:
        with self._lock:
            taps = list(self._taps.values())
        for tap in taps:
            tap.close()
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()


def events(endpoint: Endpoint) -> NatsEvents:
    return NatsEvents(endpoint)


def jetstream(endpoint: Endpoint) -> JetStreamAdmin:
    """``rig.client(name, "jetstream")``: JetStream's management API on the test's back door."""
    if endpoint.attributes.get("jetstream") != "true":
        raise StackrigError(f"rig.client({endpoint.name!r}, 'jetstream'): service '{endpoint.name}' runs without "
                            "JetStream", hint=f"set `jetstream = true` in [services.{endpoint.name}]")
    return JetStreamAdmin(endpoint.direct_url, service=endpoint.name, name="stackrig-test")

