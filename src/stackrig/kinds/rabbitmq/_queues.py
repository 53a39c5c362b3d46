"""`rig.queue("bus", "billing")`: look at a queue (peek, then nack with requeue: the messages come
back marked redelivered), consume from it, purge it, count it."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from ...errors import StackrigError
from ...events import Event
from ...services import Endpoint
from ._client import _aio_pika, _Connection, event_from_message

__all__ = ["RabbitQueue", "RabbitQueues", "connect_queues"]


class RabbitQueue:
    """One queue, for a test to look at or consume from: ``peek``, ``receive``, ``purge``, ``len()``."""

    def __init__(self, owner: RabbitQueues, name: str) -> None:
        self.owner = owner
        self.name = name

    def _missing(self, exc: BaseException) -> StackrigError:
        return StackrigError(f"rig.queue({self.owner.service!r}, {self.name!r}): no queue {self.name!r} in vhost "
                             f"{self.owner.conn.vhost!r}", hint="declare it in the stack file's `queues` (or the "
                                                                "definitions file), or check the name")

    async def _queue(self) -> Any:
        aio_pika = _aio_pika()
        channel = await self.owner.channel()
        try:
            return await channel.declare_queue(self.name, passive=True)
        except aio_pika.exceptions.ChannelNotFoundEntity as exc:
            self.owner._channel = None  # noqa: SLF001 - the broker closed it
            raise self._missing(exc) from None

    def peek(self, limit: int = 10) -> list[Event]:
        """Messages waiting (not those already delivered to a consumer), returned to the queue at once
        with basic.nack(requeue): RabbitMQ marks them redelivered."""
        return list(self.owner.conn.run(self._peek(limit)))

    async def _peek(self, limit: int) -> list[Event]:
        queue = await self._queue()
        got: list[Any] = []
        for _ in range(max(0, limit)):
            message = await queue.get(no_ack=False, fail=False, timeout=5)
            if message is None:
                break
            got.append(message)
        if got:
            await got[-1].nack(multiple=True, requeue=True)
        return [event_from_message(m) for m in got]

    def receive(self, limit: int = 1, wait: float = 0.0) -> list[Event]:
        """Take up to `limit` messages off the queue (acknowledged), waiting up to `wait` s for the first."""
        return list(self.owner.conn.run(self._receive(limit, wait), wait + 30))

    async def _receive(self, limit: int, wait: float) -> list[Event]:
        queue = await self._queue()
        got: list[Event] = []
        deadline = time.monotonic() + wait
        while len(got) < limit:
            message = await queue.get(no_ack=False, fail=False, timeout=5)
            if message is None:
                if got or time.monotonic() >= deadline:
                    break
                await asyncio.sleep(0.01)
                continue
            await message.ack()
            got.append(event_from_message(message))
        return got

    def purge(self) -> None:
        self.owner.conn.run(self._purge())

    async def _purge(self) -> None:
        queue = await self._queue()
        await queue.purge()

    def __len__(self) -> int:
        """Messages waiting (queue.declare passive's message count: not those unacknowledged)."""
        return int(self.owner.conn.run(self._len()))

    async def _len(self) -> int:
        queue = await self._queue()
        return int(queue.declaration_result.message_count)

    def close(self) -> None:
        """Nothing per queue: the connection is the capability's (closed with the rig)."""

    def __repr__(self) -> str:
        return f"<rabbitmq queue {self.name!r} of '{self.owner.service}' (vhost {self.owner.conn.vhost!r})>"


class RabbitQueues:
    """The ``"queues"`` capability: ``queue(name)``."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.conn = _Connection(endpoint, "queues")
        self.service = endpoint.name
        self._channel: Any = None

    async def channel(self) -> Any:
        if self._channel is None or self._channel.is_closed:
            self._channel = await self.conn.channel(publisher_confirms=False)
        return self._channel

    def queue(self, name: str) -> RabbitQueue:
        return RabbitQueue(self, name)

    def close(self) -> None:
        self.conn.close()


def connect_queues(endpoint: Endpoint) -> RabbitQueues:
    _aio_pika()
    return RabbitQueues(endpoint)
