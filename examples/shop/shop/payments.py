"""The client of the external payment gateway, guarded by a circuit breaker.

The gateway API is ``POST {PAYMENT_GATEWAY_URL}/charges`` with JSON
``{"amount_cents", "currency", "order_id"}``; 200/201 is a charge (its JSON
``id``, if any, is kept), 402 a decline.  Anything else — a time-out, a refused
connection, a 5xx or an unexpected answer — is a gateway failure and counts
towards opening the breaker; a decline does not (the gateway worked).  What
becomes of the order is the caller's business (the saga cancels it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import httpx

from shop.breaker import CircuitBreaker, CircuitOpen
from shop.errors import ApiError

__all__ = ["Charge", "PaymentGateway"]

log = logging.getLogger("shop")


@dataclass(frozen=True, slots=True)
class Charge:
    charge_id: str | None


class PaymentGateway:
    def __init__(self, base_url: str, *, timeout_s: float, breaker: CircuitBreaker) -> None:
        self.base_url = base_url
        self.breaker = breaker
        self._client = httpx.AsyncClient(base_url=base_url, timeout=timeout_s)

    async def charge(self, *, order_id: int, amount_cents: int, currency: str) -> Charge:
        """Charge the order or raise :class:`ApiError` (402, 502, 503 or 504) saying why."""
        try:
            self.breaker.before_call()
        except CircuitOpen as exc:
            raise ApiError(
                503,
                f"payment gateway unavailable: {exc}",
                headers={"Retry-After": str(max(1, round(exc.retry_after_s)))},
            ) from exc
        try:
            response = await self._client.post(
                "/charges",
                json={"amount_cents": amount_cents, "currency": currency, "order_id": order_id},
                headers={"Idempotency-Key": f"order-{order_id}"},
            )
        except httpx.TimeoutException as exc:
            self.breaker.record_failure()
            log.warning("payment gateway timed out for order %s: %r", order_id, exc)
            raise ApiError(
                504, f"payment gateway at {self.base_url} timed out"
            ) from exc
        except httpx.TransportError as exc:
            self.breaker.record_failure()
            log.warning("payment gateway unreachable for order %s: %r", order_id, exc)
            raise ApiError(
                502,
                f"payment gateway at {self.base_url} is unreachable ({exc.__class__.__name__})",
            ) from exc

        if response.status_code in (200, 201):
            self.breaker.record_success()
            return Charge(charge_id=_charge_id(response))
        if response.status_code == 402:
            self.breaker.record_success()
            raise ApiError(
                402, f"payment declined by the gateway: {_reason(response)}"
            )
        self.breaker.record_failure()
        log.warning(
            "payment gateway answered %s for order %s: %s",
            response.status_code,
            order_id,
            response.text[:200],
        )
        raise ApiError(
            502,
            f"payment gateway answered {response.status_code} (expected 200, 201 or 402)",
        )

    async def close(self) -> None:
        await self._client.aclose()


def _json(response: httpx.Response) -> dict[str, object]:
    try:
        value = response.json()
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _charge_id(response: httpx.Response) -> str | None:
    value = _json(response).get("id")
    return str(value) if value is not None else None


def _reason(response: httpx.Response) -> str:
    body = _json(response)
    for key in ("error", "reason", "message", "detail"):
        if isinstance(body.get(key), str):
            return str(body[key])
    return response.text[:200] or "no reason given"
