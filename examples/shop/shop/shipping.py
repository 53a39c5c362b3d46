"""The client of the shipping service (Go): ``GET {SHIPPING_URL}/quote?weight_g=N&country=CC`` → ``{"cents": N}``."""

from __future__ import annotations

import logging

import httpx

from shop.errors import ApiError

__all__ = ["ShippingClient"]

log = logging.getLogger("shop")


class ShippingClient:
    def __init__(self, base_url: str, *, timeout_s: float) -> None:
        self.base_url = base_url
        self._client = httpx.AsyncClient(base_url=base_url, timeout=timeout_s)

    async def quote(self, *, weight_g: int, country: str) -> int:
        """The price of shipping in cents, or ApiError: 422 when the carrier refuses the parcel,
        503 when the service cannot be asked."""
        try:
            response = await self._client.get("/quote", params={"weight_g": weight_g, "country": country})
        except httpx.HTTPError as exc:
            log.warning("shipping quote for %s g to %s failed: %r", weight_g, country, exc)
            raise ApiError(503, f"shipping quotes are unavailable ({exc.__class__.__name__}); retry later",
                           headers={"Retry-After": "1"}) from exc
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code == 200 and isinstance(body, dict) and isinstance(body.get("cents"), int):
            return int(body["cents"])
        if 400 <= response.status_code < 500 and isinstance(body, dict) and isinstance(body.get("error"), str):
            raise ApiError(422, f"cannot ship this order: {body['error']}")
        log.warning("shipping answered %s: %s", response.status_code, response.text[:200])
        raise ApiError(503, f"shipping quotes are unavailable (the service answered {response.status_code}); "
                            "retry later", headers={"Retry-After": "1"})

    async def close(self) -> None:
        await self._client.aclose()
