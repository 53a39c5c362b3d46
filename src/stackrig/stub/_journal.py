"""The request journal: a bounded ring of served requests, so memory stays flat under load.

A request answered by proxying also keeps what the upstream answered (:class:`UpstreamResponse`),
which ``/__admin/recordings/snapshot`` turns into stubs.
"""

from __future__ import annotations

import itertools
import os
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ._request import Request

__all__ = ["DEFAULT_JOURNAL_LIMIT", "DEFAULT_RECORDING_LIMIT", "Journal", "ServeEvent", "UpstreamResponse", "event_id"]

DEFAULT_JOURNAL_LIMIT = 5000
DEFAULT_RECORDING_LIMIT = 10_000  # proxied exchanges one recording keeps (see _record)
_PREFIX = (
    os.urandom(4).hex()
    + "-"
    + os.urandom(2).hex()
    + "-4"
    + os.urandom(2).hex()[1:]
    + "-8"
    + os.urandom(2).hex()[1:]
    + "-"
)


def event_id(seq: int) -> str:
    """The UUID-shaped id of the serve event with sequence number ``seq``."""
    return f"{_PREFIX}{seq:012x}"


@dataclass(frozen=True, slots=True)
class UpstreamResponse:
    """What a proxied request got from the upstream (hop-by-hop headers already left out)."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        lname = name.lower()
        return next((v for n, v in self.headers if n.lower() == lname), None)


class ServeEvent:
    """One journaled request, the stub (if any) that answered it and, if proxied, the upstream's answer."""

    __slots__ = ("proxied", "request", "seq", "status", "stub_id")

    def __init__(
        self, seq: int, request: Request, stub_id: str | None, status: int, proxied: UpstreamResponse | None = None
    ) -> None:
        self.seq = seq
        self.request = request
        self.stub_id = stub_id
        self.status = status
        self.proxied = proxied

    @property
    def id(self) -> str:
        return event_id(self.seq)

    @property
    def was_matched(self) -> bool:
        return self.stub_id is not None

    def to_json(self, host: str, port: int, stub_json: dict[str, Any] | None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "request": self.request.to_json(host, port),
            "responseDefinition": {"status": self.status},
            "response": {"status": self.status},
            "wasMatched": self.was_matched,
        }
        if stub_json is not None:
            out["stubMapping"] = stub_json
        return out


_Entry = tuple[int, Request, "str | None", int, "UpstreamResponse | None"]


class Journal:
    """Newest entries kept, oldest dropped once ``limit`` is reached (``limit=0`` disables it).

    The ring holds plain tuples (cheap on the hot path); :class:`ServeEvent` objects are built
    only when someone reads the journal.
    """

    def __init__(self, limit: int = DEFAULT_JOURNAL_LIMIT) -> None:
        self.limit = limit
        self._events: deque[_Entry] = deque(maxlen=max(limit, 0))
        self._seq = itertools.count(1)
        self.record = self._record if limit > 0 else self._discard

    def _record(
        self, request: Request, stub_id: str | None, status: int, proxied: UpstreamResponse | None = None
    ) -> int:
        seq = next(self._seq)
        self._events.append((seq, request, stub_id, status, proxied))
        return seq

    def _discard(
        self, request: Request, stub_id: str | None, status: int, proxied: UpstreamResponse | None = None
    ) -> int:
        return next(self._seq)

    def __len__(self) -> int:
        return len(self._events)

    def oldest_first(self) -> Iterator[ServeEvent]:
        return (ServeEvent(*e) for e in list(self._events))

    def newest_first(self) -> Iterator[ServeEvent]:
        return (ServeEvent(*e) for e in reversed(list(self._events)))

    def clear(self) -> None:
        self._events.clear()

    def get(self, event_id: str) -> ServeEvent | None:
        for event in self.oldest_first():
            if event.id == event_id.lower():
                return event
        return None

    def remove_where(self, keep: Any) -> int:
        before = len(self._events)
        kept = [e for e in self._events if keep(ServeEvent(*e))]
        self._events.clear()
        self._events.extend(kept)
        return before - len(kept)
