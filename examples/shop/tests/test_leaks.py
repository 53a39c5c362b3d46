"""Leak detection: 200 small tests, each asserting it sees exactly the baseline before it writes.

Run in random order (pytest-randomly) and under ``-n 2``; any data one test leaks into another
fails the later one.  Each test writes everywhere the system keeps state — both databases (through
the API and the inventory, whose saga it runs to the end, and directly), Redis, the streams — and
stackrig's per-test reset puts all of it back while the services keep their connection pools,
their NATS connections and their durable consumers across tests.
"""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
import pytest
import redis
from _support import STREAMS, wait_for_status

from stackrig import Rig

BASELINE_TABLES = {"users": 1, "products": 3, "orders": 0, "order_items": 0, "order_status_history": 0,
                   "payments": 0, "outbox": 0}
INVENTORY_TABLES = {"stock": 3, "reservations": 0, "reservation_items": 0, "outbox": 0}
BASELINE_STOCK = [(1, 25, 0), (2, 5, 0), (3, 40, 0)]


def counts(conn: psycopg.Connection[Any], tables: dict[str, int]) -> dict[str, int]:
    return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}  # type: ignore[index]


def assert_baseline(rig: Rig, db: psycopg.Connection[Any], inventory: psycopg.Connection[Any],
                    cache: redis.Redis) -> None:
    assert counts(db, BASELINE_TABLES) == BASELINE_TABLES
    assert db.execute("SELECT max(version) FROM products").fetchone() == (1,)
    assert counts(inventory, INVENTORY_TABLES) == INVENTORY_TABLES
    stock = inventory.execute("SELECT product_id, available, reserved FROM stock ORDER BY 1").fetchall()
    assert stock == BASELINE_STOCK
    assert cache.dbsize() == 0
    js = rig.client("events", "jetstream")
    assert {name: js.stream_info(name)["state"]["messages"] for name in STREAMS} == dict.fromkeys(STREAMS, 0)


@pytest.mark.parametrize("n", range(200))
def test_sees_only_the_baseline(n: int, rig: Rig, api: httpx.Client, db: psycopg.Connection[Any],
                                inventory_db: psycopg.Connection[Any], cache: redis.Redis) -> None:
    assert_baseline(rig, db, inventory_db, cache)
    # write through the apps (their own pooled connections) ...
    created = api.post("/auth/register", json={"email": "leak@example.com", "password": "pw-123456", "name": "L"})
    assert created.status_code == 201, created.text  # a 409 would mean a previous test's user leaked
    assert created.json()["id"] == 2  # identity sequences are reset too
    token = api.post("/auth/login", json={"email": "leak@example.com", "password": "pw-123456"}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    assert api.get("/products/1").status_code == 200  # fills the cache
    order = api.post("/orders", json={"items": [{"product_id": 2, "quantity": 1 + n % 3}]}, headers=headers)
    assert order.status_code == 201, order.text
    assert order.json()["id"] == 1
    wait_for_status(api, headers, 1, "reserved")  # the inventory (Node.js) took the stock in its database
    if n % 2:
        assert api.post("/orders/1/pay", headers=headers).status_code == 200  # orders.paid: sold, and an e-mail
    # ... and directly
    db.execute("UPDATE products SET price_cents = price_cents + 1000 WHERE id = 3")
    inventory_db.execute("UPDATE stock SET available = available + 1000 WHERE product_id = 3")
    cache.set(f"leak:{n}", "x")
    rig.publish("events", "orders.audit", {"n": n}, jetstream=True)  # a stored message nobody consumes
