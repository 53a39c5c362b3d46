"""WebSockets: ``/ws/orders/{id}?token=...`` pushes ``{"order_id", "status"}`` on every status change
of the caller's order; ``/ws/health`` answers one message (stackrig's readiness probe shakes hands
with it).

A browser cannot set an Authorization header on a WebSocket, so the access token comes as the
``token`` query parameter.  The handshake is refused (403) when the page's ``Origin`` is not one
of ``CORS_ORIGINS`` (or the API's own): another site's page cannot open it with the user's token.  A missing or bad
token closes the socket with code 4401, somebody else's or an unknown order with 4404.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from shop.auth import user_for_token
from shop.errors import ApiError
from shop.state import AppState

__all__ = ["router"]

log = logging.getLogger("shop")

router = APIRouter(tags=["live"])


@router.websocket("/ws/health")
async def health(ws: WebSocket) -> None:
    await ws.accept()
    await ws.send_json({"status": "ok"})
    await ws.close()


@router.websocket("/ws/orders/{order_id}")
async def order_status(ws: WebSocket, order_id: int) -> None:
    state: AppState = ws.app.state.shop
    origin = ws.headers.get("origin")
    own = f"{'https' if ws.url.scheme == 'wss' else 'http'}://{ws.headers.get('host', '')}"
    if origin is not None and origin.rstrip("/") not in (*state.settings.cors_origins, own):
        log.warning("WebSocket for order %s refused: origin %s is not allowed", order_id, origin)
        await ws.close(code=1008)  # before accept: the handshake is answered 403
        return
    await ws.accept()
    token = ws.query_params.get("token") or ""
    async with state.pool.connection() as conn:
        try:
            user = await user_for_token(conn, token, state.settings.jwt_secret)
        except ApiError as exc:
            await ws.close(code=4401, reason=exc.message[:120])
            return
        cur = await conn.execute("SELECT 1 FROM orders WHERE id = %s AND user_id = %s",
                                 (order_id, user["id"]) if 1 <= order_id < 2**63 else (0, 0))
        if await cur.fetchone() is None:
            await ws.close(code=4404, reason=f"order {order_id} not found")
            return
        # Subscribe first, then replay the history: a change made in between is in both, and is
        # sent once.
        queue = state.hub.subscribe(order_id)
        cur = await conn.execute("SELECT status FROM order_status_history WHERE order_id = %s ORDER BY id",
                                 (order_id,))
        history = [row["status"] for row in await cur.fetchall()]
    sent: set[str] = set()
    try:
        for status in history:
            await ws.send_json({"order_id": order_id, "status": status})
            sent.add(status)

        async def push() -> None:
            while True:
                status = await queue.get()
                if status not in sent:  # an order never returns to a status it had
                    sent.add(status)
                    await ws.send_json({"order_id": order_id, "status": status})

        pusher = asyncio.create_task(push())
        try:
            while (await ws.receive())["type"] != "websocket.disconnect":
                pass  # until the client goes away (it has nothing to say)
        except WebSocketDisconnect:
            pass
        finally:
            pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pusher
    finally:
        state.hub.unsubscribe(order_id, queue)
