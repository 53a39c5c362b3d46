"""The FastAPI application: ``shop.app:app``, or :func:`create_app` for another configuration."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from shop.breaker import CircuitBreaker
from shop.cache import ProductCache
from shop.config import Settings
from shop.db import open_pool
from shop.errors import install_error_handlers
from shop.mailer import Mailer
from shop.payments import PaymentGateway
from shop.routes import auth_router, health_router, orders_router, products_router
from shop.state import AppState

__all__ = ["app", "create_app"]

log = logging.getLogger("shop")


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; settings are read from the environment at start-up unless given."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        config = settings or Settings.from_env()
        pool = await open_pool(config)
        gateway = None
        if config.payment_gateway_url:
            breaker = CircuitBreaker(
                "payment-gateway",
                threshold=config.payment_breaker_threshold,
                cooldown_s=config.payment_breaker_cooldown_s,
            )
            gateway = PaymentGateway(
                config.payment_gateway_url, timeout_s=config.payment_timeout_s, breaker=breaker
            )
        state = AppState(
            settings=config,
            pool=pool,
            cache=ProductCache(config.redis_url),
            mailer=Mailer(config.smtp_host, config.smtp_port, config.smtp_from),
            gateway=gateway,
        )
        app.state.shop = state
        try:
            yield
        finally:
            await state.cache.close()
            if gateway is not None:
                await gateway.close()
            await pool.close()

    app = FastAPI(title="shop", summary="The example system under test of stackrig", lifespan=lifespan)
    install_error_handlers(app)
    for router in (health_router, auth_router, products_router, orders_router):
        app.include_router(router)
    return app


app = create_app()
