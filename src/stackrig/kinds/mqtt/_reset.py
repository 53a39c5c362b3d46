"""Per-test isolation of an mqtt service (`isolation = "retained"`, the default).

What a test leaves behind on a broker that the next test would see is **retained messages**:
the application keeps its connections and subscriptions, and a broker without persistence
keeps nothing else across them that a clean-session client could meet.  So after each test:

1. **look** — one round trip on the reset's own connection: SUBSCRIBE ``#`` at QoS 0 and
   UNSUBSCRIBE in one write, read until the UNSUBACK (:meth:`WireClient.scan` explains why every
   retained message arrives before it).  A test that left nothing behind costs this and only this:
   ~0.2 ms on mosquitto, ~1–2 ms on amqtt;
2. **put back** — every retained topic that is not in the baseline (and not under
   ``keep_retained``) gets an empty retained message (MQTT's way to clear one); every baseline
   topic that was changed or cleared gets its baseline message again (payload, MQTT 5 properties,
   QoS);
3. **check** — scan again until nothing is off the baseline (mosquitto: the first scan, it handles
   one connection's packets in order; amqtt handles a PUBLISH and a SUBSCRIBE of the same
   connection in separate queues, so it may take a few), within ``reset_timeout``; else the reset
   fails naming the topics, and the service is dirty (the next test is errored).

The baseline is what is retained when the session's reset is made (before the first test): the
application's own retained state at start.

Not reset, because no MQTT broker lets a client do it without disconnecting the application:
persistent sessions (``clean_session = false`` / a session expiry) and the messages queued for
them, messages in flight to a subscriber, and the application's subscriptions (which are meant
to stay).  ``$SYS`` topics are the broker's own.  Clearing a retained message *is* a publish:
subscribers of that topic receive an empty message (as with any MQTT clear).
"""

from __future__ import annotations

import time

from ...config import ServiceSpec
from ...errors import IsolationError, StackrigError
from ...events import mqtt_topic
from ...services import Endpoint, TestReset
from ._events import Target, target_of
from ._spec import MqttSpec
from ._wire import Retained, WireClient, WireError

__all__ = ["RetainedReset", "make_reset"]


class RetainedReset(TestReset):
    """Puts the broker's retained messages back to the session's baseline after each test."""

    def __init__(self, target: Target, *, keep: list[str], timeout: float) -> None:
        self.target = target
        self.keep = list(keep)
        self.timeout = timeout
        self.client: WireClient = target.wire(role="stackrig-reset", timeout=timeout)
        self.baseline: dict[str, Retained] = {}
        self.dirty: list[str] = []
        self.cleared = 0  # retained messages put back, for the report and the tests
        self.scans = 0
        self._install()

    # -- baseline ---------------------------------------------------------------------------
    def _kept(self, topic: str) -> bool:
        return any(mqtt_topic(f, topic) for f in self.keep)

    def _install(self) -> None:
        try:
            found = self._scan()
        finally:
            self._done()
        self.baseline = {t: m for t, m in found.items() if not self._kept(t)}
        if self.baseline:
            self._learn_qos()

    def _learn_qos(self) -> None:
        """A QoS 0 scan sees every retained message at QoS 0; their own QoS (which a restore must
        keep) comes from a subscription at QoS 2 on a throwaway connection, once."""
        client = self.target.wire(role="stackrig-reset-qos", timeout=self.timeout)
        try:
            client.connect()
            found = client.collect("#", 2, set(self.baseline))
            if self.target.sticky_filters:
                client.forget()
        except (OSError, WireError) as exc:
            raise StackrigError(f"service '{self.target.service}': reading the QoS of the baseline's retained "
                                f"messages failed: {exc}") from None
        finally:
            client.close()
        for topic, msg in self.baseline.items():
            msg.qos = found[topic].qos

    # -- per test -----------------------------------------------------------------------------
    def _scan(self) -> dict[str, Retained]:
        """One scan on the reset's connection; a broken connection (the broker restarted) is made
        again once.  On amqtt the scan's subscription stays until :meth:`_done` (see `sticky_filters`)."""
        for attempt in (1, 2):
            try:
                if not self.client.connected:
                    self.client.connect()
                self.scans += 1
                return self.client.scan("#", unsubscribe=not self.target.sticky_filters)
            except (OSError, WireError) as exc:
                self.client.close()
                if attempt == 2:
                    raise IsolationError(f"service '{self.target.service}': the per-test reset cannot read the "
                                         f"broker's retained messages at {self.target.shown}: {exc}",
                                         hint="is the broker running? A test that stops it must start it again "
                                              "(rig[name].start())") from None
        raise AssertionError("unreachable")

    def _done(self) -> None:
        """amqtt: a clean session with the same client id deletes the scans' subscriptions at once."""
        if self.target.sticky_filters and self.client.connected:
            try:
                self.client.forget()
            except (OSError, WireError):
                self.client.close()

    def _plan(self, found: dict[str, Retained]) -> list[Retained]:
        """What to publish to get from `found` back to the baseline."""
        plan = [Retained(t, b"", 0) for t in found if t not in self.baseline and not self._kept(t)]
        for topic, base in self.baseline.items():
            now = found.get(topic)
            if now is None or not now.same(base):
                plan.append(base)
        return plan

    def after(self, test_id: str) -> None:
        try:
            self._restore(test_id)
        finally:
            self._done()

    def _restore(self, test_id: str) -> None:
        try:
            plan = self._plan(self._scan())
        except IsolationError:
            self.dirty = ["(unknown: the broker could not be read)"]
            raise
        if not plan:
            self.dirty = []
            return
        deadline = time.monotonic() + self.timeout
        last_sent = 0.0
        while plan:
            if time.monotonic() - last_sent > 0.25:  # again, in case something re-published meanwhile
                try:
                    self.client.publish(plan)
                except (OSError, WireError) as exc:
                    self.client.close()
                    self.dirty = [m.topic for m in plan]
                    raise IsolationError(f"service '{self.target.service}': after {test_id}, clearing retained "
                                         f"messages failed: {exc}") from None
                self.cleared += len(plan)
                last_sent = time.monotonic()
            plan = self._plan(self._scan())
            if plan and time.monotonic() > deadline:
                self.dirty = sorted(m.topic for m in plan)
                shown = ", ".join(self.dirty[:10]) + (f" and {len(self.dirty) - 10} more" if len(self.dirty) > 10
                                                      else "")
                raise IsolationError(
                    f"service '{self.target.service}': after {test_id}, retained messages are still off the "
                    f"baseline {self.timeout:g} s later: {shown} (something keeps publishing them)",
                    hint="if the application itself owns these retained topics, list them in keep_retained; "
                         "reset_timeout gives a slow broker longer")
            if plan:
                time.sleep(0.001)
        self.dirty = []

    def still_dirty(self) -> bool:
        return bool(self.dirty)

    def close(self) -> None:
        self.client.close()


def make_reset(spec: ServiceSpec, endpoint: Endpoint) -> TestReset | None:
    assert isinstance(spec, MqttSpec)
    if spec.isolation != "retained":
        return None
    return RetainedReset(target_of(endpoint), keep=spec.keep_retained, timeout=spec.reset_timeout)
