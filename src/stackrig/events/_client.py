"""What a kind's ``"events"`` and ``"queue"`` capabilities offer (protocols the kinds implement)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from ._event import Event
from ._tap import Tap

__all__ = ["EventsClient", "QueueClient"]


class EventsClient(Protocol):
    def tap(self, pattern: str, **options: Any) -> Tap:
        """Subscribe to `pattern` (the broker's own syntax) from now on, without taking messages
        from anyone; options are the kind's (``exchange=``, ``stream=``, ``limit=``)."""
        ...

    def publish(self, subject: str, body: Any, headers: Mapping[str, str] | None = None, **options: Any) -> None:
        """Send one message (dicts and lists as JSON with ``content-type: application/json``)."""
        ...

    def close(self) -> None: ...


class QueueClient(Protocol):
    """For queues a tap cannot copy from (a plain SQS queue): look without consuming, or consume."""

    def peek(self, limit: int = 10) -> list[Event]:
        """Messages waiting, returned to the queue at once (their receive count goes up)."""
        ...

    def receive(self, limit: int = 1, wait: float = 0.0) -> list[Event]:
        """Take messages off the queue (deleted): a test acting as the consumer."""
        ...

    def purge(self) -> None: ...

    def __len__(self) -> int: ...

    def close(self) -> None: ...
