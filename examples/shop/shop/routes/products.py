"""Products: the catalogue (CRUD, reads through the Redis cache, optimistic locking on update) and
their images in S3.  Stock is the inventory service's: a new product's initial stock goes to it
as ``products.created``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from shop.auth import CurrentUser
from shop.db import Conn
from shop.errors import ApiError
from shop.images import MAX_IMAGE_BYTES, sniff
from shop.saga import enqueue
from shop.schemas import Id, Product, ProductIn, ProductUpdate
from shop.state import DbConn, State

__all__ = ["router"]

router = APIRouter(prefix="/products", tags=["products"])

_COLUMNS = "id, name, description, price_cents, weight_g, version, image_key"
IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp")


def _not_found(product_id: int) -> ApiError:
    return ApiError(404, f"product {product_id} not found")


def _product(row: Any) -> Product:
    data = dict(row)
    key = data.pop("image_key", None)
    data.pop("image_type", None)
    return Product.model_validate({**data, "image_url": f"/products/{data['id']}/image" if key else None})


async def _fetch(conn: Conn, product_id: int) -> dict[str, Any] | None:
    cur = await conn.execute(f"SELECT {_COLUMNS} FROM products WHERE id = %s", (product_id,))
    row = await cur.fetchone()
    return dict(row) if row is not None else None


@router.post("", status_code=201)
async def create_product(body: ProductIn, state: State, conn: DbConn, _: CurrentUser) -> Product:
    async with conn.transaction():
        cur = await conn.execute(
            "INSERT INTO products (name, description, price_cents, weight_g) VALUES (%s, %s, %s, %s)"
            f" RETURNING {_COLUMNS}",
            (body.name, body.description, body.price_cents, body.weight_g),
        )
        row = await cur.fetchone()
        assert row is not None
        # In the stream of the orders, so the inventory stocks it before any order of it.
        await enqueue(conn, "products.created", {"product_id": row["id"], "stock": body.stock})
    state.published()
    return _product(row)


@router.get("")
async def list_products(
    conn: DbConn,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
) -> list[Product]:
    cur = await conn.execute(
        f"SELECT {_COLUMNS} FROM products ORDER BY id LIMIT %s OFFSET %s", (limit, offset)
    )
    return [_product(row) for row in await cur.fetchall()]


@router.get("/{product_id}")
async def get_product(product_id: Id, state: State, conn: DbConn) -> Product:
    cached = await state.cache.get(product_id)
    if cached is not None:
        return Product.model_validate(cached)
    row = await _fetch(conn, product_id)
    if row is None:
        raise _not_found(product_id)
    product = _product(row)
    await state.cache.put(product.model_dump())
    return product


@router.put("/{product_id}")
async def update_product(
    product_id: Id, body: ProductUpdate, state: State, conn: DbConn, _: CurrentUser
) -> Product:
    cur = await conn.execute(
        "UPDATE products SET name = %s, description = %s, price_cents = %s, weight_g = %s,"
        " version = version + 1, updated_at = now()"
        f" WHERE id = %s AND version = %s RETURNING {_COLUMNS}",
        (body.name, body.description, body.price_cents, body.weight_g, product_id, body.version),
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
    return _product(row)


@router.delete("/{product_id}", status_code=204)
async def delete_product(product_id: Id, state: State, conn: DbConn, _: CurrentUser) -> Response:
    cur = await conn.execute("DELETE FROM products WHERE id = %s RETURNING image_key", (product_id,))
    row = await cur.fetchone()
    if row is None:
        raise _not_found(product_id)
    await state.cache.invalidate(product_id)
    if row["image_key"] and state.images is not None:
        await state.images.delete(row["image_key"])
    return Response(status_code=204)


@router.put(
    "/{product_id}/image",
    openapi_extra={"requestBody": {"required": True, "content": {
        t: {"schema": {"type": "string", "format": "binary"}} for t in IMAGE_TYPES}}},
    responses={413: {"description": "larger than 2 MiB"}, 415: {"description": "not a PNG, JPEG or WebP image"}},
)
async def put_image(product_id: Id, request: Request, state: State, conn: DbConn, _: CurrentUser) -> Product:
    """Upload the product's image (the raw bytes, `Content-Type: image/png`, `image/jpeg` or
    `image/webp`, at most 2 MiB), stored in S3; the product's `image_url` then serves it."""
    if state.images is None:
        raise ApiError(503, "image uploads are not configured: the shop runs without IMAGES_BUCKET")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in IMAGE_TYPES:
        raise ApiError(415, f"an image must be sent as {', '.join(IMAGE_TYPES)}, not {content_type or 'nothing'}")
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_IMAGE_BYTES:
            raise ApiError(413, f"an image may have at most {MAX_IMAGE_BYTES} bytes")
    if not sniff(content_type, bytes(data)):
        raise ApiError(415, f"the body is not a {content_type} image")
    if await _fetch(conn, product_id) is None:
        raise _not_found(product_id)
    key = await state.images.put(product_id, bytes(data), content_type)
    cur = await conn.execute(
        f"UPDATE products SET image_key = %s, image_type = %s, updated_at = now() WHERE id = %s RETURNING {_COLUMNS}",
        (key, content_type, product_id),
    )
    row = await cur.fetchone()
    if row is None:  # deleted meanwhile
        await state.images.delete(key)
        raise _not_found(product_id)
    await state.cache.invalidate(product_id)
    return _product(row)


@router.get(
    "/{product_id}/image",
    response_class=Response,
    responses={200: {"content": {t: {} for t in IMAGE_TYPES}, "description": "the image"}},
)
async def get_image(product_id: Id, state: State, conn: DbConn) -> Response:
    row = await _fetch(conn, product_id)
    if row is None:
        raise _not_found(product_id)
    if not row["image_key"] or state.images is None:
        raise ApiError(404, f"product {product_id} has no image")
    found = await state.images.get(row["image_key"])
    if found is None:
        raise ApiError(404, f"product {product_id} has no image")
    data, content_type = found
    return Response(data, media_type=content_type, headers={"Cache-Control": "max-age=60"})
