"""The example shop: a small FastAPI e-commerce backend that stackrig's docs and tests run.

Run it with ``python -m uvicorn shop.app:app --host 127.0.0.1 --port PORT`` from
``examples/shop/``; it is configured only through environment variables (see
:mod:`shop.config`).
"""

from shop.config import Settings, SettingsError

__all__ = ["Settings", "SettingsError"]
