"""Live order statuses for ``/ws/orders/{id}``: an in-process hub the status changes are announced to.

Every status change is made by this process (the saga's consumer, the pay route) and committed
before it is announced, so a subscriber that first subscribes and then reads the order's history
from the database misses nothing and sees no status twice.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

__all__ = ["OrderHub"]


class OrderHub:
    def __init__(self) -> None:
        self._subscribers: defaultdict[int, set[asyncio.Queue[str]]] = defaultdict(set)

    def subscribe(self, order_id: int) -> asyncio.Queue[str]:
        queue: asyncio.Queue[str] = asyncio.Queue()
        self._subscribers[order_id].add(queue)
        return queue

    def unsubscribe(self, order_id: int, queue: asyncio.Queue[str]) -> None:
        subscribers = self._subscribers.get(order_id)
        if subscribers is not None:
            subscribers.discard(queue)
            if not subscribers:
                del self._subscribers[order_id]

    def announce(self, order_id: int, status: str) -> None:
        for queue in self._subscribers.get(order_id, ()):
            queue.put_nowait(status)
