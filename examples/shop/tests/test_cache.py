"""The Redis read cache of products: key ``product:{id}``, filled on read, invalidated on change."""

from __future__ import annotations

import json
from typing import Any

import httpx
import redis
from _support import RegisteredUser, png


def key(product: dict[str, Any]) -> str:
    return f"product:{product['id']}"


def test_read_fills_the_cache_with_the_product_json(
    api: httpx.Client, cache: redis.Redis, product: dict[str, Any]
) -> None:
    assert cache.get(key(product)) is None  # creating does not cache
    read = api.get(f"/products/{product['id']}")
    assert read.status_code == 200
    cached = cache.get(key(product))
    assert cached is not None, f"{key(product)} not in Redis after a read"
    assert json.loads(str(cached)) == read.json() == product
    assert 0 < cache.ttl(key(product)) <= 300  # entries expire


def test_reads_are_served_from_the_cache(
    api: httpx.Client, cache: redis.Redis, product: dict[str, Any]
) -> None:
    api.get(f"/products/{product['id']}")
    # Change the entry behind the API's back: the API must answer from Redis, not PostgreSQL.
    cache.set(key(product), json.dumps({**product, "name": "from-the-cache"}))
    assert api.get(f"/products/{product['id']}").json()["name"] == "from-the-cache"


def test_update_invalidates_and_next_read_returns_new_data(
    api: httpx.Client, cache: redis.Redis, user: RegisteredUser, product: dict[str, Any]
) -> None:
    api.get(f"/products/{product['id']}")
    assert cache.exists(key(product))

    body = {"name": product["name"], "price_cents": 999, "weight_g": 300, "version": product["version"]}
    assert api.put(f"/products/{product['id']}", json=body, headers=user.headers).status_code == 200
    assert not cache.exists(key(product)), "the update left a stale cache entry"

    read = api.get(f"/products/{product['id']}").json()
    assert (read["price_cents"], read["weight_g"], read["version"]) == (999, 300, product["version"] + 1)
    assert json.loads(str(cache.get(key(product)))) == read


def test_delete_invalidates(
    api: httpx.Client, cache: redis.Redis, user: RegisteredUser, product: dict[str, Any]
) -> None:
    api.get(f"/products/{product['id']}")
    assert api.delete(f"/products/{product['id']}", headers=user.headers).status_code == 204
    assert not cache.exists(key(product))
    assert api.get(f"/products/{product['id']}").status_code == 404
    assert not cache.exists(key(product)), "a miss must not be cached"


def test_an_image_upload_invalidates(
    api: httpx.Client, cache: redis.Redis, user: RegisteredUser, product: dict[str, Any]
) -> None:
    api.get(f"/products/{product['id']}")
    assert json.loads(str(cache.get(key(product))))["image_url"] is None
    uploaded = api.put(f"/products/{product['id']}/image", content=png(),
                       headers={**user.headers, "Content-Type": "image/png"})
    assert uploaded.status_code == 200, uploaded.text
    assert not cache.exists(key(product))
    assert api.get(f"/products/{product['id']}").json()["image_url"] == f"/products/{product['id']}/image"


def test_orders_leave_the_cache_alone(
    api: httpx.Client, cache: redis.Redis, user: RegisteredUser, product: dict[str, Any]
) -> None:
    """Stock is the inventory's, not in the cached product: an order changes nothing cached."""
    api.get(f"/products/{product['id']}")
    order = api.post(
        "/orders", json={"items": [{"product_id": product["id"], "quantity": 1}]}, headers=user.headers
    )
    assert order.status_code == 201, order.text
    assert json.loads(str(cache.get(key(product)))) == product
