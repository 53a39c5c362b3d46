"""Products: CRUD, reads through the Redis cache, optimistic locking on update."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from shop.auth import CurrentUser
from shop.db import Conn
from shop.errors import ApiError
from shop.schemas import Product, ProductIn, ProductUpdate
from shop.state import DbConn, State

__all__ = ["router"]

router = APIRouter(prefix="/products", tags=["products"])

_COLUMNS = "id, name, description, price_cents, stock, version"


def _not_found(product_id: int) -> ApiError:
    return ApiError(404, f"product {product_id} not found")


async def _fetch(conn: Conn, product_id: int) -> dict[str, Any] | None:
    cur = await conn.execute(f"SELECT {_COLUMNS} FROM products WHERE id = %s", (product_id,))
    row = await cur.fetchone()
    return dict(row) if row is not None else None


@router.post("", status_code=201)
async def create_product(body: ProductIn, conn: DbConn, _: CurrentUser) -> Product:
    cur = await conn.execute(
        f"INSERT INTO products (name, description, price_cents, stock) VALUES (%s, %s, %s, %s)"
        f" RETURNING {_COLUMNS}",
        (body.name, body.description, body.price_cents, body.stock),
    )
    row = await cur.fetchone()
    assert row is not None
    return Product.model_validate(row)


@router.get("")
async def list_products(
    conn: DbConn,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[Product]:
    cur = await conn.execute(
        f"SELECT {_COLUMNS} FROM products ORDER BY id LIMIT %s OFFSET %s", (limit, offset)
    )
    return [Product.model_validate(row) for row in await cur.fetchall()]


@router.get("/{product_id}")
async def get_product(product_id: int, state: State, conn: DbConn) -> Product:
    cached = await state.cache.get(product_id)
    if cached is not None:
        return Product.model_validate(cached)
    row = await _fetch(conn, product_id)
    if row is None:
        raise _not_found(product_id)
    product = Product.model_validate(row)
    await state.cache.put(product.model_dump())
    return product


@router.put("/{product_id}")
async def update_product(
    product_id: int, body: ProductUpdate, state: State, conn: DbConn, _: CurrentUser
) -> Product:
    cur = await conn.execute(
        "UPDATE products SET name = %s, description = %s, price_cents = %s, stock = %s,"
        " version = version + 1, updated_at = now()"
        f" WHERE id = %s AND version = %s RETURNING {_COLUMNS}",
        (body.name, body.description, body.price_cents, body.stock, product_id, body.version),
    )
    row = await cur.fetchone()
    if row is None:
        current = await _fetch(conn, product_id)
        if current is None:
            raise _not_found(product_id)
        raise ApiError(
            409,
            f"conflict: product {product_id} is at version {current['version']} but the update was based "
            f"on version {body.version}; GET it again and retry with the current version",
        )
    await state.cache.invalidate(product_id)
    return Product.model_validate(row)


@router.delete("/{product_id}", status_code=204)
async def delete_product(product_id: int, state: State, conn: DbConn, _: CurrentUser) -> Response:
    cur = await conn.execute("DELETE FROM products WHERE id = %s", (product_id,))
    if cur.rowcount == 0:
        raise _not_found(product_id)
    await state.cache.invalidate(product_id)
    return Response(status_code=204)
