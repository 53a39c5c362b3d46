"""The HTTP and WebSocket routes, one router per resource."""

from shop.routes.auth import router as auth_router
from shop.routes.health import router as health_router
from shop.routes.live import router as live_router
from shop.routes.orders import router as orders_router
from shop.routes.products import router as products_router

__all__ = ["auth_router", "health_router", "live_router", "orders_router", "products_router"]
