"""Leak detection: 200 small tests, each asserting it sees exactly the baseline before it writes.

Run in random order (pytest-randomly) and under ``-n 2``; any data one test leaks into another
fails the later one.  stackrig's per-test reset makes this hold while the app keeps its
connection pool open across tests.
"""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
import pytest
import redis

BASELINE_TABLES = {"users": 1, "products": 3, "orders": 0, "order_items": 0, "payments": 0}
BASELINE_STOCK = [25, 5, 40]


def assert_baseline(db: psycopg.Connection[Any], cache: redis.Redis) -> None:
    counts = {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in BASELINE_TABLES}  # type: ignore[index]
    assert counts == BASELINE_TABLES
    stock = [r[0] for r in db.execute("SELECT stock FROM products ORDER BY id").fetchall()]
    assert stock == BASELINE_STOCK
    assert db.execute("SELECT max(version) FROM products").fetchone() == (1,)
    assert cache.dbsize() == 0


@pytest.mark.parametrize("n", range(200))
def test_sees_only_the_baseline(n: int, api: httpx.Client, db: psycopg.Connection[Any], cache: redis.Redis) -> None:
    assert_baseline(db, cache)
    # write through the app (its own pooled connections) ...
    created = api.post("/auth/register", json={"email": "leak@example.com", "password": "pw-123456", "name": "L"})
    assert created.status_code == 201, created.text  # a 409 would mean a previous test's user leaked
    assert created.json()["id"] == 2  # identity sequences are reset too
    token = api.post("/auth/login", json={"email": "leak@example.com", "password": "pw-123456"}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    assert api.get("/products/1").status_code == 200  # fills the cache
    order = api.post("/orders", json={"items": [{"product_id": 2, "quantity": 1 + n % 3}]}, headers=headers)
    assert order.status_code == 201, order.text
    # ... and directly
    db.execute("UPDATE products SET stock = stock + 1000 WHERE id = 3")
    cache.set(f"leak:{n}", "x")
