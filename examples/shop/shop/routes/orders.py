"""Orders: create (reserving stock in one transaction), read, pay, fulfil.

Life cycle: ``pending`` ──pay──▶ ``paid`` ──fulfil──▶ ``fulfilled``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from fastapi import APIRouter

from shop.auth import CurrentUser
from shop.db import Conn
from shop.errors import ApiError
from shop.schemas import Order, OrderIn
from shop.state import DbConn, State

__all__ = ["router"]

router = APIRouter(prefix="/orders", tags=["orders"])

CURRENCY = "EUR"


async def _load(conn: Conn, order_id: int, user_id: int) -> Order:
    """The order if it exists and belongs to the user; 404 otherwise (other users' orders are invisible)."""
    cur = await conn.execute(
        "SELECT id, user_id, status, total_cents, currency, created_at FROM orders"
        " WHERE id = %s AND user_id = %s",
        (order_id, user_id),
    )
    order = await cur.fetchone()
    if order is None:
        raise ApiError(404, f"order {order_id} not found")
    cur = await conn.execute(
        "SELECT product_id, product_name, quantity, unit_price_cents FROM order_items"
        " WHERE order_id = %s ORDER BY id",
        (order_id,),
    )
    return Order.model_validate({**order, "items": await cur.fetchall()})


async def _reserve(conn: Conn, product_id: int, quantity: int) -> dict[str, Any]:
    """Take ``quantity`` from the product's stock (inside the caller's transaction)."""
    cur = await conn.execute(
        "UPDATE products SET stock = stock - %s, version = version + 1, updated_at = now()"
        " WHERE id = %s AND stock >= %s RETURNING name, price_cents",
        (quantity, product_id, quantity),
    )
    row = await cur.fetchone()
    if row is not None:
        return dict(row)
    cur = await conn.execute("SELECT stock FROM products WHERE id = %s", (product_id,))
    existing = await cur.fetchone()
    if existing is None:
        raise ApiError(422, f"product {product_id} in the order does not exist; remove it from `items`")
    raise ApiError(
        409,
        f"insufficient stock for product {product_id}: {quantity} requested, {existing['stock']} available",
    )


@router.post("", status_code=201)
async def create_order(body: OrderIn, state: State, conn: DbConn, user: CurrentUser) -> Order:
    quantities: Counter[int] = Counter()
    for item in body.items:
        quantities[item.product_id] += item.quantity
    async with conn.transaction():
        lines = []
        # Lock products in id order so concurrent orders cannot deadlock.
        for product_id in sorted(quantities):
            product = await _reserve(conn, product_id, quantities[product_id])
            lines.append((product_id, product["name"], quantities[product_id], product["price_cents"]))
        total = sum(qty * price for _, _, qty, price in lines)
        cur = await conn.execute(
            "INSERT INTO orders (user_id, total_cents, currency) VALUES (%s, %s, %s) RETURNING id",
            (user["id"], total, CURRENCY),
        )
        row = await cur.fetchone()
        assert row is not None
        order_id = int(row["id"])
        async with conn.cursor() as cur2:
            await cur2.executemany(
                "INSERT INTO order_items (order_id, product_id, product_name, quantity, unit_price_cents)"
                " VALUES (%s, %s, %s, %s, %s)",
                [(order_id, *line) for line in lines],
            )
    await state.cache.invalidate(*quantities)
    return await _load(conn, order_id, user["id"])


@router.get("/{order_id}")
async def get_order(order_id: int, conn: DbConn, user: CurrentUser) -> Order:
    return await _load(conn, order_id, user["id"])


@router.post("/{order_id}/pay")
async def pay_order(order_id: int, state: State, conn: DbConn, user: CurrentUser) -> Order:
    order = await _load(conn, order_id, user["id"])
    if order.status != "pending":
        raise ApiError(409, f"order {order_id} is {order.status}; only pending orders can be paid")
    if state.gateway is None:
        raise ApiError(503, "payments are not configured: the shop runs without PAYMENT_GATEWAY_URL")
    charge = await state.gateway.charge(
        order_id=order_id, amount_cents=order.total_cents, currency=order.currency
    )
    async with conn.transaction():
        cur = await conn.execute(
            "UPDATE orders SET status = 'paid', updated_at = now() WHERE id = %s AND status = 'pending'",
            (order_id,),
        )
        if cur.rowcount == 0:
            raise ApiError(409, f"order {order_id} changed while it was being paid; GET it to see its state")
        await conn.execute(
            "INSERT INTO payments (order_id, amount_cents, currency, charge_id) VALUES (%s, %s, %s, %s)",
            (order_id, order.total_cents, order.currency, charge.charge_id),
        )
    return await _load(conn, order_id, user["id"])


@router.post("/{order_id}/fulfil")
async def fulfil_order(order_id: int, conn: DbConn, user: CurrentUser) -> Order:
    cur = await conn.execute(
        "UPDATE orders SET status = 'fulfilled', updated_at = now()"
        " WHERE id = %s AND user_id = %s AND status = 'paid'",
        (order_id, user["id"]),
    )
    order = await _load(conn, order_id, user["id"])
    if cur.rowcount == 0:
        raise ApiError(409, f"order {order_id} is {order.status}; only paid orders can be fulfilled")
    return order
