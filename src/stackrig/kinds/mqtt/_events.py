"""Taps and publishing on an MQTT broker (the ``"events"`` capability), with paho-mqtt.

A tap is its own connection (clean session, a unique client id) with one ordinary subscription
on the test's topic filter — never a shared subscription (``$share/...``), so every subscriber
of the application still gets every message.  ``tap()`` returns once the broker acknowledged
the subscription (SUBACK): whatever is published from then on is captured.

Retained messages the broker sends *because* the tap subscribed are not events of the tap unless
``retained=True`` asks for them (then ``meta["retained"]`` is True).  They are recognised by the
retain flag: a broker sets it only on messages sent for a new subscription (MQTT 3.3.1-9; the tap
never asks for "retain as published"), so on a live message it is always 0.  On MQTT 5 the tap
also asks the broker not to send them at all (retain handling 2) unless ``retained=True``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from ...errors import StackrigError
from ...events import Event, Tap, encode_body, mqtt_topic, options_limit
from ...services import Endpoint
from ._spec import filter_problem
from ._wire import PROTOCOL_V5, PROTOCOL_V311, MqttRefused, Retained, WireClient, WireError

__all__ = ["MqttEvents", "Target", "connect_events", "target_of"]

TAP_OPTIONS = ("retained", "qos", "limit", "reconnect_window")
PUBLISH_OPTIONS = ("qos", "retain", "timeout", "response_topic", "correlation_data", "message_expiry")


class Target:
    """Where and how to connect: from the endpoint's direct URL and attributes."""

    def __init__(self, service: str, url: str, attributes: Mapping[str, str]) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "tcp", "") or not parts.hostname or not parts.port:
            raise StackrigError(f"service '{service}': {url!r} is not an mqtt://host:port URL")
        self.service = service
        self.host = parts.hostname
        self.port = parts.port
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password is not None else None
        self.broker = attributes.get("broker", "")
        protocol = attributes.get("protocol", "")
        self.protocol = {"5": PROTOCOL_V5, "3.1.1": PROTOCOL_V311}.get(protocol, 0) or self._detect()
        # amqtt keeps every filter ever subscribed to (see WireClient.scan): scans must not unsubscribe.
        # A broker run elsewhere (`external=`) that speaks only 3.1.1 may be amqtt: treated alike
        # (the barrier and the clean session work on any broker; they cost a reconnect)
        self.sticky_filters = self.broker == "amqtt" or (not self.broker and self.protocol == PROTOCOL_V311)

    @property
    def shown(self) -> str:
        """The URL without the password, for messages."""
        auth = f"{self.user}@" if self.user else ""
        return f"mqtt://{auth}{self.host}:{self.port}"

    def _detect(self) -> int:
        """A broker started elsewhere: MQTT 5 if it accepts an MQTT 5 CONNECT, else 3.1.1."""
        client = self.wire(PROTOCOL_V5, "stackrig-detect")
        try:
            client.connect()
        except MqttRefused as exc:
            if exc.code in (1, 0x84):  # unacceptable / unsupported protocol version
                return PROTOCOL_V311
            raise StackrigError(f"service '{self.service}': {self.shown} refused stackrig's connection: {exc}",
                                hint="check the user and password in the service's URL") from None
        except WireError:
            return PROTOCOL_V311  # amqtt closes the connection on an MQTT 5 CONNECT
        except OSError as exc:
            raise StackrigError(f"service '{self.service}': cannot connect to {self.shown}: {exc}") from None
        client.close()
        return PROTOCOL_V5

    def wire(self, protocol: int | None = None, role: str = "stackrig", timeout: float = 5.0,
             client_id: str | None = None) -> WireClient:
        return WireClient(self.host, self.port, protocol=protocol or self.protocol, user=self.user,
                          password=self.password, client_id=client_id or f"{role}-{os.getpid()}-{os.urandom(4).hex()}",
                          timeout=timeout)

    def scan(self, client: WireClient, topic_filter: str) -> dict[str, Retained]:
        """`client.scan`, leaving no subscription behind on any broker (amqtt: see `sticky_filters`)."""
        if not client.connected:
            client.connect()
        if not self.sticky_filters:
            return client.scan(topic_filter)
        try:
            return client.scan(topic_filter, unsubscribe=False)
        finally:
            client.forget()

    def paho(self, role: str, client_id: str | None = None) -> Any:
        try:
            import paho.mqtt.client as mqtt
            from paho.mqtt.enums import CallbackAPIVersion
        except ImportError:
            raise StackrigError("taps and rig.publish() on an mqtt service need paho-mqtt",
                                hint="pip install 'paho-mqtt>=2' (or stackrig[brokers])") from None
        client_id = client_id or f"{role}-{os.getpid()}-{os.urandom(4).hex()}"
        client: Any
        if self.protocol == PROTOCOL_V5:
            client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        else:
            client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True,
                                 protocol=mqtt.MQTTv311)
        if self.user is not None:
            client.username_pw_set(self.user, self.password)
        client.reconnect_delay_set(0.02, 0.5)
        return client


def target_of(endpoint: Endpoint) -> Target:
    return Target(endpoint.name, endpoint.direct_url, endpoint.attributes)


def _reason(code: Any) -> str:
    return f"{code} ({int(code.value) if hasattr(code, 'value') else code})"


class _Subscription:
    """One tap's connection: subscribes, turns messages into events, reports failures to the tap."""

    def __init__(self, target: Target, pattern: str, *, retained: bool, qos: int, limit: int,
                 reconnect_window: float) -> None:
        self.target = target
        self.pattern = pattern
        self.retained = retained
        self.qos = qos
        self.reconnect_window = reconnect_window
        v5 = target.protocol == PROTOCOL_V5
        where = (f"subscription {pattern!r} at QoS {qos}, MQTT {'5' if v5 else '3.1.1'}, "
                 f"{'with' if retained else 'without'} retained messages")
        self.tap = Tap(target.service, pattern, subject_matches=mqtt_topic, limit=limit, on_close=self.close,
                       where=where)
        self._ready = threading.Event()
        self._error: str | None = None
        self._sub_mid: int | None = None
        self._closing = False
        self._stopped = False
        self._lost_at: float | None = None
        self.gaps = 0
        self.client_id = f"stackrig-tap-{os.getpid()}-{os.urandom(4).hex()}"
        self.client = client = target.paho("stackrig-tap", self.client_id)
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        client.on_disconnect = self._on_disconnect
        client.on_connect_fail = self._on_connect_fail

    def start(self, timeout: float = 10.0) -> Tap:
        try:
            # keep-alive 0: under a backlog (the broker queued more than the tap reads in a keep-alive
            # interval) a PINGRESP waits behind the messages, and paho would drop the connection —
            # and the broker the queue.  A broker that goes away closes the socket: that is noticed.
            self.client.connect(self.target.host, self.target.port, keepalive=0)
        except OSError as exc:
            raise StackrigError(f"rig.events({self.target.service!r}, {self.pattern!r}): cannot connect to "
                                f"{self.target.shown}: {exc}",
                                hint="is the service running? (rig[name].running)") from None
        self.client.loop_start()
        if not self._ready.wait(timeout) or self._error:
            self._stop()
            raise StackrigError(f"rig.events({self.target.service!r}, {self.pattern!r}): "
                                f"{self._error or f'no SUBACK from {self.target.shown} within {timeout:g} s'}")
        return self.tap

    # -- paho's thread ---------------------------------------------------------------------
    def _subscribe(self) -> None:
        if self.target.protocol == PROTOCOL_V5:
            from paho.mqtt.subscribeoptions import SubscribeOptions

            handling = SubscribeOptions.RETAIN_SEND_ON_SUBSCRIBE if self.retained \
                else SubscribeOptions.RETAIN_DO_NOT_SEND
            _, self._sub_mid = self.client.subscribe(self.pattern, options=SubscribeOptions(
                qos=self.qos, retainAsPublished=False, retainHandling=handling))
        else:
            _, self._sub_mid = self.client.subscribe(self.pattern, self.qos)

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        if reason_code.is_failure:
            self._fail(f"{self.target.shown} refused the tap's connection: {_reason(reason_code)}")
            return
        if self._lost_at is not None:
            self._lost_at = None
            self.gaps += 1
            self.tap.where = (self.tap.where.split(" [")[0] + f" [reconnected {self.gaps}x after the broker "
                              "went away: what was published while it was away was not captured]")
        try:
            self._subscribe()  # clean session: a reconnect subscribes again
        except Exception as exc:  # noqa: BLE001 - reaches the test
            self._fail(f"subscribing failed: {type(exc).__name__}: {exc}")

    def _on_subscribe(self, client: Any, userdata: Any, mid: int, reason_codes: Any, properties: Any) -> None:
        if mid != self._sub_mid:
            return
        bad = [c for c in reason_codes if c.is_failure]
        if bad:
            self._fail(f"{self.target.shown} refused the subscription to {self.pattern!r}: {_reason(bad[0])}"
                       " (an ACL, or a filter the broker does not accept)")
            return
        self._ready.set()

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        try:
            if msg.retain and (not self.retained or not self._ready.is_set()):
                # a stored message sent because the tap subscribed: not an event unless asked for;
                # before the SUBACK: amqtt's copies for other clients' filters, sent at connect
                return
            if not mqtt_topic(self.pattern, msg.topic):
                return  # not the tap's (amqtt sends a new connection other filters' retained messages)
            headers: dict[str, str] = {}
            meta: dict[str, Any] = {"qos": msg.qos, "retain": bool(msg.retain), "retained": bool(msg.retain)}
            props = getattr(msg, "properties", None)
            if props is not None:
                for key, value in getattr(props, "UserProperty", None) or []:
                    headers[key] = value
                content_type = getattr(props, "ContentType", None)
                if content_type is not None:
                    headers["content-type"] = content_type
                for attr, key in (("ResponseTopic", "response_topic"), ("CorrelationData", "correlation_data"),
                                  ("PayloadFormatIndicator", "payload_format"),
                                  ("MessageExpiryInterval", "message_expiry")):
                    value = getattr(props, attr, None)
                    if value is not None:
                        meta[key] = value
            self.tap.feed(Event(msg.topic, msg.payload, headers, meta=meta))
        except Exception as exc:  # noqa: BLE001 - a subscriber error reaches the test, never swallowed
            self.tap.fail(exc)

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        if self._closing:
            return
        if not self._ready.is_set():
            self._fail(f"{self.target.shown} closed the tap's connection: {_reason(reason_code)}")
            return
        if self._lost_at is None:
            self._lost_at = time.monotonic()

    def _on_connect_fail(self, client: Any, userdata: Any) -> None:
        lost = self._lost_at
        if lost is not None and time.monotonic() - lost > self.reconnect_window:
            self._fail(f"the connection to {self.target.shown} broke and the broker was not back within "
                       f"{self.reconnect_window:g} s (reconnect_window)")
            self._closing = True
            client.disconnect()  # ends paho's loop: no more retries

    def _fail(self, message: str) -> None:
        self._error = message
        self.tap.fail(ConnectionError(message))
        self._ready.set()

    # -- the test's side -------------------------------------------------------------------
    def _stop(self) -> None:
        self._closing = True
        if self._stopped:
            return
        self._stopped = True
        try:
            self.client.disconnect()
        finally:
            self.client.loop_stop()
        if self.target.sticky_filters:  # drop the session's filter now, not at amqtt's next sweep
            wire = self.target.wire(client_id=self.client_id, timeout=2.0)
            try:
                wire.connect()
            except (OSError, WireError):
                pass  # the broker is gone: so is the filter
            finally:
                wire.close()

    def close(self) -> None:
        self._stop()


class _Publisher:
    """The events client's own connection for `publish` (made on first use)."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.client = client = target.paho("stackrig-pub")
        self._connected = threading.Event()
        self._refused: str | None = None
        self._acks: dict[int, Any] = {}
        self._lock = threading.Lock()
        client.on_connect = self._on_connect
        client.on_disconnect = lambda *a: self._connected.clear()
        client.on_publish = self._on_publish
        try:
            client.connect(target.host, target.port, keepalive=30)
        except OSError as exc:
            raise StackrigError(f"rig.publish({target.service!r}, ...): cannot connect to {target.shown}: "
                                f"{exc}", hint="is the service running? (rig[name].running)") from None
        client.loop_start()
        if not self._connected.wait(10) or self._refused:
            self.close()
            raise StackrigError(f"rig.publish({target.service!r}, ...): "
                                f"{self._refused or f'no CONNACK from {target.shown} within 10 s'}")

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        if reason_code.is_failure:
            self._refused = f"{self.target.shown} refused the connection: {_reason(reason_code)}"
        self._connected.set()

    def _on_publish(self, client: Any, userdata: Any, mid: int, reason_code: Any, properties: Any) -> None:
        with self._lock:
            self._acks[mid] = reason_code

    def publish(self, topic: str, payload: bytes, qos: int, retain: bool, properties: Any, timeout: float) -> None:
        if not self._connected.wait(timeout):
            raise StackrigError(f"rig.publish({self.target.service!r}, {topic!r}): not connected to "
                                f"{self.target.shown} (reconnecting for {timeout:g} s did not succeed)")
        info = self.client.publish(topic, payload, qos=qos, retain=retain, properties=properties)
        try:
            info.wait_for_publish(timeout)
        except (RuntimeError, ValueError) as exc:
            raise StackrigError(f"rig.publish({self.target.service!r}, {topic!r}) failed: {exc}") from None
        if not info.is_published():
            raise StackrigError(f"rig.publish({self.target.service!r}, {topic!r}): the broker did not acknowledge "
                                f"the message within {timeout:g} s (QoS {qos})")
        with self._lock:
            code = self._acks.pop(info.mid, None)
        if code is not None and getattr(code, "is_failure", False):
            raise StackrigError(f"rig.publish({self.target.service!r}, {topic!r}): the broker refused the message: "
                                f"{_reason(code)}")

    def close(self) -> None:
        try:
            self.client.disconnect()
        finally:
            self.client.loop_stop()


def _check_options(what: str, options: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise StackrigError(f"{what}: unknown option{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
                            f"an mqtt service accepts {', '.join(allowed)}")


def _qos(what: str, value: Any) -> int:
    if value not in (0, 1, 2) or isinstance(value, bool):
        raise StackrigError(f"{what}: qos={value!r}: expected 0, 1 or 2")
    return int(value)


class MqttEvents:
    """``rig.events(name, filter, ...)`` and ``rig.publish(name, topic, body, ...)`` on an mqtt service."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.target = target_of(endpoint)
        self._publisher: _Publisher | None = None
        self._wire: WireClient | None = None
        self._subs: list[_Subscription] = []

    def tap(self, pattern: str, **options: Any) -> Tap:
        """Copy every message on `pattern` (an MQTT topic filter: ``+`` one level, ``#`` the rest) from
        now on.  Options: ``retained=False`` (True: also the stored retained messages the subscription
        brings), ``qos`` (the subscription's QoS; default 2 on mosquitto — delivery is at the
        published QoS — and 0 on amqtt, which delivers every message at the subscription's QoS),
        ``limit``, ``reconnect_window=10.0`` (seconds the tap waits for a broker that went away)."""
        what = f"rig.events({self.target.service!r}, {pattern!r})"
        _check_options(what, options, TAP_OPTIONS)
        if not isinstance(pattern, str):
            raise StackrigError(f"{what}: the pattern must be a topic filter string")
        if pattern.startswith("$share/") or pattern.startswith("$queue/"):
            raise StackrigError(f"{what}: a tap never uses a shared subscription — it would take messages away "
                                "from the application's subscribers in the same group",
                                hint=f"tap the plain filter: {pattern.split('/', 2)[-1]!r}")
        problem = filter_problem(pattern)
        if problem:
            raise StackrigError(f"{what}: not a valid MQTT topic filter: {problem}")
        retained = options.get("retained", False)
        if not isinstance(retained, bool):
            raise StackrigError(f"{what}: retained={retained!r}: expected True or False")
        default_qos = 2 if self.target.protocol == PROTOCOL_V5 else 0
        qos = _qos(what, options.get("qos", default_qos))
        window = options.get("reconnect_window", 10.0)
        if not isinstance(window, int | float) or isinstance(window, bool) or window < 0:
            raise StackrigError(f"{what}: reconnect_window={window!r}: expected seconds (a number >= 0)")
        sub = _Subscription(self.target, pattern, retained=retained, qos=qos, limit=options_limit(options),
                            reconnect_window=float(window))
        tap = sub.start()
        self._subs = [s for s in self._subs if not s._stopped]
        self._subs.append(sub)
        return tap

    def publish(self, subject: str, body: Any, headers: Mapping[str, str] | None = None, **options: Any) -> None:
        """Publish one message on topic `subject`; returns when the broker has it (QoS 1, the default:
        its PUBACK; a retained message: once a scan shows the broker stores it).  Dicts and lists go as
        JSON with content type ``application/json`` (MQTT 5); `headers` become MQTT 5 user properties
        (``content-type`` the content type).  Options: ``qos`` (default 1), ``retain`` (default False),
        ``timeout`` (10 s), and on MQTT 5 ``response_topic``, ``correlation_data``, ``message_expiry``."""
        what = f"rig.publish({self.target.service!r}, {subject!r})"
        _check_options(what, options, PUBLISH_OPTIONS)
        if not isinstance(subject, str) or not subject or "+" in subject or "#" in subject or "\x00" in subject:
            raise StackrigError(f"{what}: a topic name must be a non-empty string without wildcards ('+', '#')")
        if subject.startswith("$"):
            raise StackrigError(f"{what}: topics starting with '$' belong to the broker ($SYS); clients may not "
                                "publish to them")
        qos = _qos(what, options.get("qos", 1))
        retain = options.get("retain", False)
        if not isinstance(retain, bool):
            raise StackrigError(f"{what}: retain={retain!r}: expected True or False")
        timeout = float(options.get("timeout", 10.0))
        payload, content_type = encode_body(body)
        properties = None
        v5_only = {k: options[k] for k in ("response_topic", "correlation_data", "message_expiry") if k in options}
        if self.target.protocol == PROTOCOL_V5:
            from paho.mqtt.packettypes import PacketTypes
            from paho.mqtt.properties import Properties

            properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            user = [(str(k), str(v)) for k, v in (headers or {}).items() if str(k).lower() != "content-type"]
            given = [str(v) for k, v in (headers or {}).items() if str(k).lower() == "content-type"]
            properties.ContentType = given[-1] if given else content_type
            if user:
                properties.UserProperty = user
            if "response_topic" in v5_only:
                properties.ResponseTopic = str(v5_only["response_topic"])
            if "correlation_data" in v5_only:
                data = v5_only["correlation_data"]
                properties.CorrelationData = data.encode() if isinstance(data, str) else bytes(data)
            if "message_expiry" in v5_only:
                properties.MessageExpiryInterval = int(v5_only["message_expiry"])
        elif headers or v5_only:
            given_keys = sorted([*(headers or {}), *v5_only])
            raise StackrigError(f"{what}: headers and MQTT 5 options ({', '.join(given_keys)}) need MQTT 5, but this "
                                f"broker ({self.target.broker or self.target.shown}) speaks MQTT 3.1.1 only",
                                hint="put the data in the body, or use mosquitto (broker = \"mosquitto\")")
        if self._publisher is None:
            self._publisher = _Publisher(self.target)
        self._publisher.publish(subject, payload, qos, retain, properties, timeout)
        if retain:
            self._confirm_retained(subject, payload, timeout)

    def _confirm_retained(self, topic: str, payload: bytes, timeout: float) -> None:
        """Wait until the broker stores (or, for an empty payload, clears) the retained message, so the
        per-test reset — another connection — cannot miss it.  mosquitto stores it before its PUBACK;
        a QoS 0 publish or amqtt (which acknowledges before it processes) need a look."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self._wire is None:
                    self._wire = self.target.wire(role="stackrig-pubcheck")
                found = self.target.scan(self._wire, topic)
            except (OSError, WireError) as exc:
                raise StackrigError(f"rig.publish({self.target.service!r}, {topic!r}): could not check that the "
                                    f"broker retained the message: {exc}") from None
            held = found.get(topic)
            if (held is not None and held.payload == payload) or (not payload and held is None):
                return
            if time.monotonic() > deadline:
                raise StackrigError(f"rig.publish({self.target.service!r}, {topic!r}): the broker did not retain "
                                    f"the message within {timeout:g} s")
            time.sleep(0.001)

    def close(self) -> None:
        for sub in self._subs:
            sub.tap.close()
        self._subs = []
        if self._publisher is not None:
            publisher, self._publisher = self._publisher, None
            publisher.close()
        if self._wire is not None:
            self._wire.close()
            self._wire = None


def connect_events(endpoint: Endpoint) -> MqttEvents:
    return MqttEvents(endpoint)
