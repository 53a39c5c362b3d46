"""The API on NATS JetStream: the outbox publisher and the consumer of the inventory's events.

* **Publishing** — routes write events to the ``outbox`` table in the transaction that makes the
  change; :meth:`Bus.wake` starts the publisher, which sends them oldest first with
  ``Nats-Msg-Id`` = the row's ``msg_id`` and deletes each once the stream has acknowledged it.  A
  publish that fails (the bus is down, the fault proxy cut the connection) is retried until it is
  acknowledged; a retry of a publish that did reach the stream is dropped by the stream's
  de-duplication.  Nothing is lost while the bus is down: it waits in the table.
* **Consuming** — the durable pull consumer ``api`` on the ``INVENTORY`` stream (declared in
  stackrig.toml, so it exists whether or not the API is connected): ``inventory.reserved`` and
  ``inventory.rejected`` move the order on (:mod:`shop.saga`, idempotent), then the message is
  acknowledged.  What arrives while the API is away is delivered when it is back.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import nats
from nats.aio.client import Client as Nats
from nats.aio.msg import Msg

from shop.db import Pool

__all__ = ["Bus"]

log = logging.getLogger("shop")

Handler = Callable[[str, dict[str, Any]], Awaitable[None]]


class Bus:
    def __init__(self, url: str, pool: Pool, handler: Handler, *, stream: str = "INVENTORY",
                 consumer: str = "api") -> None:
        self.url = url
        self.pool = pool
        self.handler = handler
        self.stream = stream
        self.consumer = consumer
        self.nc: Nats | None = None
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False

    @property
    def connected(self) -> bool:
        return self.nc is not None and self.nc.is_connected

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._run(), name="bus")]

    def wake(self) -> None:
        """Something was written to the outbox: publish it now rather than at the next poll."""
        self._wake.set()

    async def _connect(self) -> Nats:
        delay = 0.1
        while True:
            try:
                return await nats.connect(
                    self.url, name="shop-api", connect_timeout=2, allow_reconnect=True,
                    max_reconnect_attempts=-1, reconnect_time_wait=0.25, ping_interval=5,
                    error_cb=self._error, disconnected_cb=self._disconnected, reconnected_cb=self._reconnected,
                )
            except Exception as exc:  # noqa: BLE001 - the bus is not there yet: keep trying
                log.warning("cannot connect to the bus at %s (%s); retrying", self.url, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def _error(self, exc: Exception) -> None:
        log.warning("bus: %s", exc)

    async def _disconnected(self) -> None:
        if not self._closing:
            log.warning("bus: disconnected; reconnecting (events wait in the outbox and the stream)")

    async def _reconnected(self) -> None:
        log.info("bus: reconnected")
        self.wake()

    async def _run(self) -> None:
        self.nc = await self._connect()
        log.info("bus: connected to %s", self.url)
        self._tasks += [asyncio.create_task(self._publish_loop(), name="bus-publish"),
                        asyncio.create_task(self._consume_loop(), name="bus-consume")]

    # -- publishing ----------------------------------------------------------------------------
    async def _publish_loop(self) -> None:
        delay = 0.25
        while not self._closing:
            try:
                published = await self.publish_pending()
                delay = 0.25
            except Exception as exc:  # noqa: BLE001 - the bus or the database is away: retry
                log.warning("bus: publishing the outbox failed, retrying in %.2f s: %r", delay, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            if not published:
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=0.5)
                except TimeoutError:
                    pass
                self._wake.clear()

    async def publish_pending(self) -> int:
        """Publish what waits in the outbox, oldest first, stopping at the first failure (so the
        order of the events is kept); how many were published."""
        assert self.nc is not None
        js = self.nc.jetstream(timeout=2)
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT id, msg_id, subject, payload FROM outbox ORDER BY id LIMIT 100")
            rows = await cur.fetchall()
            for row in rows:
                await js.publish(row["subject"], json.dumps(row["payload"]).encode(), timeout=2,
                                 headers={"Nats-Msg-Id": str(row["msg_id"]), "content-type": "application/json"})
                await conn.execute("DELETE FROM outbox WHERE id = %s", (row["id"],))
        return len(rows)

    # -- consuming -----------------------------------------------------------------------------
    async def _consume_loop(self) -> None:
        assert self.nc is not None
        js = self.nc.jetstream(timeout=2)
        sub = None
        while not self._closing:
            try:
                if sub is None:
                    sub = await js.pull_subscribe_bind(self.consumer, stream=self.stream)
                messages = await sub.fetch(16, timeout=1)
            except nats.errors.TimeoutError:
                continue
            except Exception as exc:  # noqa: BLE001 - disconnected, or the consumer is not there yet
                if not self._closing:
                    log.warning("bus: fetching from %s/%s failed: %r", self.stream, self.consumer, exc)
                    await asyncio.sleep(0.25)
                continue
            for msg in messages:
                await self._handle(msg)

    async def _handle(self, msg: Msg) -> None:
        try:
            event = json.loads(msg.data)
            if not isinstance(event, dict):
                raise ValueError("not a JSON object")
        except ValueError as exc:
            log.warning("bus: %s is not a JSON object (%s); dropped", msg.subject, exc)
            await msg.term()
            return
        try:
            await self.handler(msg.subject, event)
        except Exception as exc:  # noqa: BLE001 - the database is away, say: deliver it again later
            log.warning("bus: handling %s %s failed, it will be delivered again: %r", msg.subject, event, exc)
            await msg.nak(delay=1)
            return
        await msg.ack()

    async def close(self) -> None:
        self._closing = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.nc is not None:
            await self.nc.close()
