"""What the app holds for its lifetime, and the FastAPI dependencies that lend it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, cast

from fastapi import Depends, Request

from shop.bus import Bus
from shop.cache import ProductCache
from shop.config import Settings
from shop.db import Conn, Pool
from shop.images import ImageStore
from shop.live import OrderHub
from shop.mailer import Mailer
from shop.payments import PaymentGateway
from shop.ratelimit import LoginLimiter
from shop.shipping import ShippingClient

__all__ = ["AppState", "DbConn", "State", "app_state", "connection"]


@dataclass(slots=True)
class AppState:
    settings: Settings
    pool: Pool
    cache: ProductCache
    limiter: LoginLimiter
    mailer: Mailer
    gateway: PaymentGateway | None
    shipping: ShippingClient | None
    images: ImageStore | None
    hub: OrderHub
    bus: Bus | None

    def published(self) -> None:
        """Something was written to the outbox: have the publisher send it now."""
        if self.bus is not None:
            self.bus.wake()


def app_state(request: Request) -> AppState:
    return cast(AppState, request.app.state.shop)


async def connection(state: Annotated[AppState, Depends(app_state)]) -> AsyncIterator[Conn]:
    async with state.pool.connection() as conn:
        yield conn


State = Annotated[AppState, Depends(app_state)]
DbConn = Annotated[Conn, Depends(connection)]
