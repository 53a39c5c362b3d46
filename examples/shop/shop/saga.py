"""The order saga's state changes, each one transaction with the event it announces (the outbox).

    pending ──inventory.reserved──▶ reserved ──pay: charged──▶ paid ──fulfil──▶ fulfilled
       │                               │
       └──inventory.rejected──▶ rejected   └──pay: declined or failed──▶ cancelled (orders.cancelled:
                                                                            the inventory releases the stock)

A change names the statuses it may start from, so a repeated or late event changes nothing
(``UPDATE ... WHERE status = ANY(...)``): every consumer of the saga is idempotent.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from shop.db import Conn

__all__ = ["change_status", "enqueue", "inventory_handler"]

log = logging.getLogger("shop")


async def enqueue(conn: Conn, subject: str, payload: dict[str, Any]) -> None:
    """Write an event to the outbox, inside the caller's transaction."""
    await conn.execute("INSERT INTO outbox (subject, payload) VALUES (%s, %s)", (subject, json.dumps(payload)))


async def change_status(
    conn: Conn,
    order_id: int,
    status: str,
    *,
    allowed_from: tuple[str, ...],
    reason: str | None = None,
    event: tuple[str, dict[str, Any]] | None = None,
) -> bool:
    """Move the order to `status` if it is in one of `allowed_from` (else change nothing and say
    False); record it in the history and, with `event`, write that event to the outbox, all in one
    transaction.  The caller announces the change (``OrderHub.announce``) once this returned."""
    async with conn.transaction():
        cur = await conn.execute(
            "UPDATE orders SET status = %s, reason = coalesce(%s, reason), updated_at = now()"
            " WHERE id = %s AND status = ANY(%s)",
            (status, reason, order_id, list(allowed_from)),
        )
        if cur.rowcount == 0:
            return False
        await conn.execute("INSERT INTO order_status_history (order_id, status) VALUES (%s, %s)", (order_id, status))
        if event is not None:
            await enqueue(conn, *event)
    return True


def inventory_handler(pool: Any, hub: Any) -> Any:
    """The consumer of the inventory's events: ``inventory.reserved`` and ``inventory.rejected``
    move a pending order on; anything else (``inventory.released``) needs nothing from the API."""

    async def handle(subject: str, event: dict[str, Any]) -> None:
        order_id = event.get("order_id")
        if not isinstance(order_id, int) or isinstance(order_id, bool):
            log.warning("%s without an integer order_id: %s; ignored", subject, event)
            return
        if subject == "inventory.reserved":
            status, reason = "reserved", None
        elif subject == "inventory.rejected":
            status, reason = "rejected", str(event.get("reason") or "rejected by the inventory")
        else:
            return
        async with pool.connection() as conn:
            changed = await change_status(conn, order_id, status, allowed_from=("pending",), reason=reason)
        if changed:
            hub.announce(order_id, status)
        log.info("%s for order %s: %s", subject, order_id, status if changed else "nothing to change")

    return handle
