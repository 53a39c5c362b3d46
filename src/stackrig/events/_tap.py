"""`Tap`: what a broker delivered to a test's own subscription, from the moment the tap was made.

The kind's subscriber (a thread) calls :meth:`Tap.feed`; tests wait and assert.  A tap never
takes a message from the application's consumers (each kind subscribes in a way that copies).
Memory is bounded: past ``limit`` events the oldest are dropped, and a failed wait says so.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import StackrigError
from ._event import Event
from ._match import Match, Want, differences
from ._subjects import exact

__all__ = ["Tap", "EventNotSeen", "UnexpectedEvent", "TapError", "DEFAULT_LIMIT"]

DEFAULT_LIMIT = 10_000
_SHOWN = 20


class TapError(StackrigError):
    """The tap's subscription broke (the broker went away and did not come back, ...)."""


class EventNotSeen(StackrigError, AssertionError):
    """`wait_for` timed out; the message lists what the tap saw, the closest first."""

    def __init__(self, message: str, *, service: str, seen: int, hint: str | None = None) -> None:
        self.service = service
        self.seen = seen
        super().__init__(message, hint=hint)


class UnexpectedEvent(StackrigError, AssertionError):
    """`expect_none` saw an event it was told must not come."""

    def __init__(self, message: str, *, service: str, subject: str, hint: str | None = None) -> None:
        self.service = service
        self.subject = subject
        super().__init__(message, hint=hint)


class Tap:
    """Events captured on one service for one pattern.  ``tap.wait_for(...)``,
    ``tap.expect_none(...)``, ``tap.events``, ``tap.count(...)``, ``tap.clear()``."""

    def __init__(self, service: str, pattern: str, *, subject_matches: Callable[[str, str], bool] = exact,
                 limit: int = DEFAULT_LIMIT, on_close: Callable[[], None] | None = None,
                 where: str = "") -> None:
        self.service = service
        self.pattern = pattern
        self.limit = limit
        self.where = where  # how the kind subscribed: "exchange amq.topic, routing key orders.#"
        self.created = time.time()
        self._matches = subject_matches
        self._on_close = on_close
        self._cond = threading.Condition()
        self._buffer: deque[tuple[int, Event]] = deque()
        self._returned: set[int] = set()  # events a wait_for already handed out
        self._seq = 0
        self._dropped = 0
        self._error: BaseException | None = None
        self._closed = False

    # -- the subscriber's side ------------------------------------------------------
    def feed(self, event: Event) -> None:
        with self._cond:
            if self._closed:
                return
            self._seq += 1
            self._buffer.append((self._seq, event))
            if len(self._buffer) > self.limit:
                seq, _ = self._buffer.popleft()
                self._returned.discard(seq)
                self._dropped += 1
            self._cond.notify_all()

    def fail(self, error: BaseException) -> None:
        """The subscription broke: waits raise it (errors surface in the test, never silently)."""
        with self._cond:
            self._error = error
            self._cond.notify_all()

    # -- the test's side --------------------------------------------------------------
    def _want(self, subject: str | None, match: Match) -> Want:
        return Want(subject, match, self._matches)

    def _raise_error(self) -> None:
        if self._error is not None:
            raise TapError(f"the tap on '{self.service}' ({self.pattern}) stopped receiving: {self._error}",
                           hint="see the service's log; a tap reconnects only while the broker comes back "
                                "within its client's retry window") from self._error

    def wait_for(self, subject: str | None = None, *, match: Match = None, timeout: float = 5.0) -> Event:
        """The first event (since the tap was made, not handed out by an earlier `wait_for`) whose
        subject matches `subject` (wildcards in the service's syntax) and whose JSON body contains
        `match` (or for which `match(event)` is true), waiting up to `timeout` seconds."""
        want = self._want(subject, match)
        deadline = time.monotonic() + timeout
        checked = 0  # events before this sequence number were looked at already
        with self._cond:
            while True:
                for seq, event in self._buffer:
                    if seq <= checked:
                        continue
                    checked = seq
                    if seq not in self._returned and want(event):
                        self._returned.add(seq)
                        return event
                self._raise_error()
                left = deadline - time.monotonic()
                if left <= 0:
                    raise self._not_seen(want, timeout)
                self._cond.wait(left)

    def expect_none(self, subject: str | None = None, *, match: Match = None, during: float = 0.5) -> None:
        """Fail if a matching event was captured already or arrives within `during` seconds."""
        want = self._want(subject, match)
        deadline = time.monotonic() + during
        checked = 0
        with self._cond:
            while True:
                for seq, event in self._buffer:
                    if seq > checked:
                        checked = seq
                        if want(event):
                            raise self._unexpected(want, event, during)
                self._raise_error()
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._cond.wait(left)

    @property
    def events(self) -> list[Event]:
        """Everything captured (the newest `limit`), oldest first."""
        with self._cond:
            return [e for _, e in self._buffer]

    @property
    def dropped(self) -> int:
        return self._dropped

    @property
    def received(self) -> int:
        """Events fed to the tap since it was made (kept or dropped)."""
        return self._seq

    def count(self, subject: str | None = None, *, match: Match = None) -> int:
        want = self._want(subject, match)
        return sum(1 for e in self.events if want(e))

    def clear(self) -> None:
        """Forget what was captured (the subscription stays)."""
        with self._cond:
            self._buffer.clear()
            self._returned.clear()
            self._dropped = 0

    def close(self) -> None:
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
        if self._on_close is not None:
            self._on_close()

    def __enter__(self) -> Tap:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- messages -------------------------------------------------------------------------
    def _header(self) -> str:
        where = f", {self.where}" if self.where else ""
        return f"tap on '{self.service}' ({self.pattern}{where})"

    def _dropped_note(self) -> str:
        return (f"\n  ({self._dropped} older events were dropped: a tap keeps the newest {self.limit}; "
                "pass limit= to rig.events() to keep more)" if self._dropped else "")

    def _not_seen(self, want: Want, timeout: float) -> EventNotSeen:
        ranked = sorted(((differences(want, e), seq, e) for seq, e in self._buffer), key=lambda r: (r[0][0], r[1]))
        lines = []
        for (_, problems), seq, event in ranked[:_SHOWN]:
            age = event.timestamp - self.created
            taken = " (already returned by an earlier wait_for)" if seq in self._returned and not problems else ""
            why = "; ".join(problems) or "matches"
            lines.append(f"    - {event.subject} at +{age:.3f} s: {why}{taken}\n      {event.short()}")
        more = f"\n    ... and {len(ranked) - _SHOWN} more" if len(ranked) > _SHOWN else ""
        seen = "\n".join(lines) if lines else "    (nothing at all)"
        wanted = want.describe()
        return EventNotSeen(
            f"no event{' with ' + wanted if wanted else ''} on the {self._header()} within {timeout:g} s; "
            f"it saw {len(ranked)}, the closest first:\n{seen}{more}{self._dropped_note()}",
            service=self.service, seen=len(ranked),
            hint="check that the publisher ran and uses this service's URL; a tap sees what is published "
                 "after it was made")

    def _unexpected(self, want: Want, event: Event, during: float) -> UnexpectedEvent:
        age = event.timestamp - self.created
        wanted = want.describe()
        return UnexpectedEvent(
            f"an event{' with ' + wanted if wanted else ''} arrived on the {self._header()} (expected none within "
            f"{during:g} s): {event.subject} at +{age:.3f} s\n      {event.short()}",
            service=self.service, subject=event.subject)

    def describe(self, last: int = 30) -> str:
        """For a failing test's report: what this tap saw."""
        events = self.events
        head = f"{self._header()}: {len(events)} events" + (f", {self._dropped} dropped" if self._dropped else "")
        shown = events[-last:]
        more = [f"  ... {len(events) - len(shown)} earlier not shown"] if len(events) > len(shown) else []
        return "\n".join([head, *more, *(f"  {e.subject} +{e.timestamp - self.created:.3f}s {e.short(120)}"
                                         for e in shown)])

    def __repr__(self) -> str:
        return f"<{self._header()}: {len(self._buffer)} events>"


def options_limit(options: Mapping[str, Any]) -> int:
    limit = options.get("limit", DEFAULT_LIMIT)
    if not isinstance(limit, int) or limit < 1:
        raise StackrigError(f"tap option limit={limit!r}: expected a positive integer")
    return limit
