"""The FastAPI application: ``shop.app:app`` (made from the environment when first asked for), or
:func:`create_app` for another configuration."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from shop.breaker import CircuitBreaker
from shop.bus import Bus
from shop.cache import ProductCache, connect_redis
from shop.config import Settings
from shop.db import open_pool
from shop.errors import install_error_handlers
from shop.images import ImageStore
from shop.live import OrderHub
from shop.mailer import Mailer
from shop.payments import PaymentGateway
from shop.ratelimit import LoginLimiter
from shop.routes import auth_router, health_router, live_router, orders_router, products_router
from shop.saga import inventory_handler
from shop.shipping import ShippingClient
from shop.state import AppState

__all__ = ["create_app"]

log = logging.getLogger("shop")
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; settings are read from the environment unless given."""
    config = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await open_pool(config)
        redis = connect_redis(config.redis_url)
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
        hub = OrderHub()
        bus = Bus(config.nats_url, pool, inventory_handler(pool, hub)) if config.nats_url else None
        state = AppState(
            settings=config,
            pool=pool,
            cache=ProductCache(redis),
            limiter=LoginLimiter(redis, max_per_email=config.login_max_failures,
                                 max_per_ip=config.login_max_failures_per_ip,
                                 window_s=config.login_failure_window_s),
            mailer=Mailer(config.smtp_host, config.smtp_port, config.smtp_from),
            gateway=gateway,
            shipping=ShippingClient(config.shipping_url, timeout_s=config.shipping_timeout_s)
            if config.shipping_url else None,
            images=ImageStore(config.images_bucket) if config.images_bucket else None,
            hub=hub,
            bus=bus,
        )
        app.state.shop = state
        if bus is not None:
            bus.start()
        try:
            yield
        finally:
            if bus is not None:
                await bus.close()
            if redis is not None:
                await redis.aclose()
            if gateway is not None:
                await gateway.close()
            if state.shipping is not None:
                await state.shipping.close()
            await pool.close()

    app = FastAPI(title="shop", summary="The example system under test of stackrig", lifespan=lifespan)
    install_error_handlers(app)
    # Browsers may call the API from these origins only (the web page is served from its own);
    # tokens travel in the Authorization header, never in cookies: no credentials mode.
    app.add_middleware(CORSMiddleware, allow_origins=list(config.cors_origins),
                       allow_methods=["GET", "POST", "PUT", "DELETE"],
                       allow_headers=["Authorization", "Content-Type"], max_age=600)
    app.state.cors_origins = config.cors_origins
    for router in (health_router, auth_router, products_router, orders_router, live_router):
        app.include_router(router)
    return app


def __getattr__(name: str) -> Any:
    # `uvicorn shop.app:app` asks for `app`: made then, from the environment, so that importing
    # this module (for create_app) reads no settings.
    if name == "app":
        made = create_app()
        globals()["app"] = made
        return made
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
