"""Optimistic locking of product updates through the ``version`` column."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
from _support import RegisteredUser, assert_error


def update(
    api: httpx.Client, user: RegisteredUser, product: dict[str, Any], version: int, **fields: Any
) -> httpx.Response:
    body = {k: product[k] for k in ("name", "description", "price_cents", "weight_g")} | fields
    return api.put(f"/products/{product['id']}", json={**body, "version": version}, headers=user.headers)


def test_each_update_bumps_the_version(
    api: httpx.Client, user: RegisteredUser, product: dict[str, Any]
) -> None:
    first = update(api, user, product, version=1, price_cents=100)
    assert first.status_code == 200 and first.json()["version"] == 2
    second = update(api, user, product, version=2, price_cents=200)
    assert second.status_code == 200 and second.json()["version"] == 3


def test_stale_version_is_409_and_leaves_the_row_unchanged(
    api: httpx.Client, db: psycopg.Connection[Any], user: RegisteredUser, product: dict[str, Any]
) -> None:
    # Two clients read version 1; the first one's update wins.
    assert update(api, user, product, version=1, name="first writer").status_code == 200
    before = db.execute("SELECT * FROM products WHERE id = %s", (product["id"],)).fetchone()

    stale = update(api, user, product, version=1, name="second writer", weight_g=0)
    message = assert_error(stale, 409, "conflict", "version 2", "version 1")
    assert "retry" in message

    after = db.execute("SELECT * FROM products WHERE id = %s", (product["id"],)).fetchone()
    assert after == before
    assert api.get(f"/products/{product['id']}").json()["name"] == "first writer"


def test_version_from_the_future_is_409(
    api: httpx.Client, user: RegisteredUser, product: dict[str, Any]
) -> None:
    assert_error(update(api, user, product, version=product["version"] + 5), 409, "conflict")
