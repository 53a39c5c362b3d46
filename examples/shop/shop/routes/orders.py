"""Orders: the API's side of the saga (see :mod:`shop.saga`).

``POST /orders`` prices the order (the catalogue's prices, the shipping service's quote), stores it
``pending`` and announces ``orders.created``; the inventory answers ``inventory.reserved`` or
``inventory.rejected``.  ``POST /orders/{id}/pay`` charges a ``reserved`` order: ``paid`` and
``orders.paid``, or — declined or failed — ``cancelled`` and ``orders.cancelled``, on which the
inventory releases the stock.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from fastapi import APIRouter

from shop.auth import CurrentUser
from shop.db import Conn
from shop.errors import ApiError
from shop.saga import change_status, enqueue
from shop.schemas import Id, Order, OrderIn
from shop.state import DbConn, State

__all__ = ["router", "load_order"]

router = APIRouter(prefix="/orders", tags=["orders"])

CURRENCY = "EUR"
MAX_TOTAL_CENTS = 2_000_000_000
_ORDER = ("id, user_id, status, reason, subtotal_cents, shipping_cents, total_cents, currency, country,"
          " created_at")


async def load_order(conn: Conn, order_id: int, user_id: int) -> Order:
    """The order if it exists and belongs to the user; 404 otherwise (other users' orders are invisible)."""
    cur = await conn.execute(f"SELECT {_ORDER} FROM orders WHERE id = %s AND user_id = %s", (order_id, user_id))
    order = await cur.fetchone()
    if order is None:
        raise ApiError(404, f"order {order_id} not found")
    cur = await conn.execute(
        "SELECT product_id, product_name, quantity, unit_price_cents FROM order_items"
        " WHERE order_id = %s ORDER BY id",
        (order_id,),
    )
    return Order.model_validate({**order, "items": await cur.fetchall()})


@router.post("", status_code=201, responses={
    422: {"description": "an unknown product, an invalid body, or a parcel the carrier refuses"},
    503: {"description": "the database or the shipping service is unavailable"}})
async def create_order(body: OrderIn, state: State, conn: DbConn, user: CurrentUser) -> Order:
    quantities: Counter[int] = Counter()
    for item in body.items:
        quantities[item.product_id] += item.quantity
    cur = await conn.execute("SELECT id, name, price_cents, weight_g FROM products WHERE id = ANY(%s)",
                             (list(quantities),))
    products = {row["id"]: row for row in await cur.fetchall()}
    missing = sorted(set(quantities) - set(products))
    if missing:
        raise ApiError(422, f"product {missing[0]} in the order does not exist; remove it from `items`")
    lines = [(pid, products[pid]["name"], qty, products[pid]["price_cents"]) for pid, qty in sorted(quantities.items())]
    subtotal = sum(qty * price for _, _, qty, price in lines)
    weight = sum(qty * products[pid]["weight_g"] for pid, qty in quantities.items())
    shipping = 0
    if state.shipping is not None:
        shipping = await state.shipping.quote(weight_g=weight, country=body.country)
    if subtotal + shipping > MAX_TOTAL_CENTS:
        raise ApiError(422, f"the order's total of {subtotal + shipping} cents is over the limit of "
                            f"{MAX_TOTAL_CENTS}; split it")
    async with conn.transaction():
        cur = await conn.execute(
            "INSERT INTO orders (user_id, subtotal_cents, shipping_cents, total_cents, currency, country)"
            " VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
            (user["id"], subtotal, shipping, subtotal + shipping, CURRENCY, body.country),
        )
        row = await cur.fetchone()
        assert row is not None
        order_id = int(row["id"])
        async with conn.cursor() as items:
            await items.executemany(
                "INSERT INTO order_items (order_id, product_id, product_name, quantity, unit_price_cents)"
                " VALUES (%s, %s, %s, %s, %s)",
                [(order_id, *line) for line in lines],
            )
        await conn.execute("INSERT INTO order_status_history (order_id, status) VALUES (%s, 'pending')",
                           (order_id,))
        await enqueue(conn, "orders.created", {
            "order_id": order_id, "user_id": user["id"], "total_cents": subtotal + shipping,
            "items": [{"product_id": pid, "quantity": qty} for pid, _, qty, _ in lines],
        })
    state.published()
    return await load_order(conn, order_id, user["id"])


@router.get("/{order_id}")
async def get_order(order_id: Id, conn: DbConn, user: CurrentUser) -> Order:
    return await load_order(conn, order_id, user["id"])


def _customer(user: dict[str, Any], order: Order) -> dict[str, Any]:
    return {"order_id": order.id, "user_id": user["id"], "email": user["email"], "name": user["name"],
            "total_cents": order.total_cents, "currency": order.currency}


@router.post("/{order_id}/pay", responses={
    402: {"description": "declined: the order is cancelled"},
    409: {"description": "the order is not reserved"},
    502: {"description": "the gateway failed: the order is cancelled"},
    503: {"description": "the payment gateway is unavailable (breaker open): the order stays reserved"},
    504: {"description": "the gateway timed out: the order is cancelled"}})
async def pay_order(order_id: Id, state: State, conn: DbConn, user: CurrentUser) -> Order:
    order = await load_order(conn, order_id, user["id"])
    if order.status == "pending":
        raise ApiError(409, f"order {order_id} is pending: its stock is not reserved yet; retry in a moment",
                       headers={"Retry-After": "1"})
    if order.status != "reserved":
        raise ApiError(409, f"order {order_id} is {order.status}; only reserved orders can be paid")
    if state.gateway is None:
        raise ApiError(503, "payments are not configured: the shop runs without PAYMENT_GATEWAY_URL")
    try:
        charge = await state.gateway.charge(order_id=order_id, amount_cents=order.total_cents,
                                            currency=order.currency)
    except ApiError as exc:
        if exc.status == 503:  # the breaker is open: nothing was attempted, the order stays reserved
            raise
        # Declined (402) or failed (502, 504): compensate — cancel, and the inventory releases the stock.
        reason = exc.message
        if await change_status(conn, order_id, "cancelled", allowed_from=("reserved",), reason=reason,
                               event=("orders.cancelled", {**_customer(user, order), "reason": reason})):
            state.hub.announce(order_id, "cancelled")
            state.published()
        raise ApiError(exc.status, f"{exc.message}; the order is cancelled and its items released",
                       headers=exc.headers) from exc
    async with conn.transaction():
        paid = await change_status(conn, order_id, "paid", allowed_from=("reserved",),
                                   event=("orders.paid", {**_customer(user, order), "charge_id": charge.charge_id}))
        if not paid:
            raise ApiError(409, f"order {order_id} changed while it was being paid; GET it to see its state")
        await conn.execute(
            "INSERT INTO payments (order_id, amount_cents, currency, charge_id) VALUES (%s, %s, %s, %s)",
            (order_id, order.total_cents, order.currency, charge.charge_id),
        )
    state.hub.announce(order_id, "paid")
    state.published()
    return await load_order(conn, order_id, user["id"])


@router.post("/{order_id}/fulfil")
async def fulfil_order(order_id: Id, state: State, conn: DbConn, user: CurrentUser) -> Order:
    order = await load_order(conn, order_id, user["id"])
    if not await change_status(conn, order_id, "fulfilled", allowed_from=("paid",)):
        order = await load_order(conn, order_id, user["id"])
        raise ApiError(409, f"order {order_id} is {order.status}; only paid orders can be fulfilled")
    state.hub.announce(order_id, "fulfilled")
    return await load_order(conn, order_id, user["id"])
