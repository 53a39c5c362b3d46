"""Data scenarios through the API and through SQL, on factory-built data (reset after each test)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import httpx
import psycopg
import pytest
from _support import until, wait_for_status
from factories import PASSWORD, OrderFactory, PaidOrderFactory, ProductFactory, UserFactory
from models import Order, User
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from stackrig import Rig
from stackrig.stub import post


def login(api: httpx.Client, email: str) -> dict[str, str]:
    token = api.post("/auth/login", json={"email": email, "password": PASSWORD}).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def count(db: psycopg.Connection[Any], table: str) -> int:
    return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # type: ignore[index]


def test_factories_build_consistent_cross_table_data(rig: Rig, db: psycopg.Connection[Any]) -> None:
    order = rig.factory(PaidOrderFactory)(quantity=3, product__price_cents=700)
    row = db.execute("SELECT i.quantity * i.unit_price_cents, o.subtotal_cents, o.total_cents, p.amount_cents, "
                     "o.status FROM orders o JOIN payments p ON p.order_id = o.id "
                     "JOIN order_items i ON i.order_id = o.id WHERE o.id = %s", (order.id,)).fetchone()
    assert row == (2100, 2100, 2100 + 490, 2100 + 490, "paid")  # the payment is for the total with shipping


@pytest.mark.parametrize("order_factory", [OrderFactory, PaidOrderFactory])
def test_an_order_of_several_items_totals_the_sum_of_its_items(
        rig: Rig, api: httpx.Client, db: psycopg.Connection[Any], order_factory: Any) -> None:
    order = rig.factory(order_factory)(items_count=3, quantity=2, product__price_cents=700)
    # through the API, as its owner sees it
    seen = api.get(f"/orders/{order.id}", headers=login(api, order.user.email))
    assert seen.status_code == 200, seen.text
    items = seen.json()["items"]
    assert len(items) == 3
    assert len({i["product_id"] for i in items}) == 3  # one line per product, as the API makes them
    assert seen.json()["subtotal_cents"] == sum(i["quantity"] * i["unit_price_cents"] for i in items)
    expected = 2 * 700 + 2 * 1500 + 2 * 1500  # the first product at 700, the others at ProductFactory's 1500
    assert (seen.json()["subtotal_cents"], seen.json()["total_cents"]) == (expected, expected + 490)
    # and in SQL: every line is in order_items, and a payment (if any) is for the full amount
    row = db.execute("SELECT o.subtotal_cents, (SELECT sum(quantity * unit_price_cents) FROM order_items "
                     "WHERE order_id = o.id), (SELECT count(*) FROM order_items WHERE order_id = o.id) "
                     "FROM orders o WHERE o.id = %s", (order.id,)).fetchone()
    assert row == (expected, expected, 3)
    payments = db.execute("SELECT amount_cents FROM payments WHERE order_id = %s", (order.id,)).fetchall()
    assert payments == ([(expected + 490,)] if order_factory is PaidOrderFactory else [])


def test_the_app_sees_factory_rows(rig: Rig, api: httpx.Client) -> None:
    user = rig.factory(UserFactory)()
    product = rig.factory(ProductFactory)(name="Kettle", weight_g=900)
    assert api.get(f"/products/{product.id}").json()["name"] == "Kettle"
    headers = login(api, user.email)
    assert api.get("/auth/me", headers=headers).json()["email"] == user.email


def test_a_rolled_back_transaction_leaves_nothing(rig: Rig, db: psycopg.Connection[Any]) -> None:
    users, orders = count(db, "users"), count(db, "orders")
    with rig.session() as session:  # a transaction rolled back at the end of the block
        user = User(email="temp@shop.example", name="Temp", password_hash="x")
        session.add(user)
        session.flush()
        session.add(Order(user_id=user.id, subtotal_cents=100, total_cents=100))
        session.commit()  # a savepoint: the outer transaction still rolls back
        assert session.scalar(select(func.count()).select_from(Order)) == orders + 1
    assert (count(db, "users"), count(db, "orders")) == (users, orders)


def test_deleting_a_user_cascades_to_orders_items_and_payments(rig: Rig, db: psycopg.Connection[Any]) -> None:
    order = rig.factory(PaidOrderFactory)()
    other = rig.factory(OrderFactory)()
    db.execute("DELETE FROM users WHERE id = %s", (order.user_id,))
    assert db.execute("SELECT count(*) FROM orders WHERE id = %s", (order.id,)).fetchone() == (0,)
    assert db.execute("SELECT count(*) FROM order_items WHERE order_id = %s", (order.id,)).fetchone() == (0,)
    assert db.execute("SELECT count(*) FROM payments WHERE order_id = %s", (order.id,)).fetchone() == (0,)
    assert db.execute("SELECT count(*) FROM orders WHERE id = %s", (other.id,)).fetchone() == (1,)


def test_a_foreign_key_violation_is_refused(db: psycopg.Connection[Any]) -> None:
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        db.execute("INSERT INTO orders (user_id, subtotal_cents, total_cents) VALUES (999999, 100, 100)")
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        db.execute("INSERT INTO order_items (order_id, product_name, quantity, unit_price_cents) "
                   "VALUES (999999, 'x', 1, 1)")


def test_duplicate_email_is_an_integrity_error_and_a_409(rig: Rig, api: httpx.Client) -> None:
    user = rig.factory(UserFactory)()
    with rig.session() as session:
        session.add(User(email=user.email, name="Twin", password_hash="x"))
        with pytest.raises(IntegrityError, match="users_email_key"):
            session.flush()
    reply = api.post("/auth/register", json={"email": user.email, "password": "pw-123456", "name": "Twin"})
    assert reply.status_code == 409


def test_concurrent_updates_the_second_gets_a_conflict(rig: Rig, api: httpx.Client,
                                                        db: psycopg.Connection[Any]) -> None:
    product = rig.factory(ProductFactory)()
    headers = login(api, rig.factory(UserFactory)().email)
    seen = api.get(f"/products/{product.id}").json()
    results: dict[str, int] = {}
    barrier = threading.Barrier(2)

    def update(who: str, weight: int) -> None:
        with httpx.Client(base_url=str(api.base_url)) as client:
            barrier.wait()
            body = {"name": seen["name"], "description": who, "price_cents": seen["price_cents"],
                    "weight_g": weight, "version": seen["version"]}
            results[who] = client.put(f"/products/{product.id}", json=body, headers=headers).status_code

    threads = [threading.Thread(target=update, args=(w, s)) for w, s in (("alice", 7), ("bob", 3))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()) == [200, 409]  # one wins, the other gets the conflict
    winner = next(w for w, code in results.items() if code == 200)
    row = db.execute("SELECT description, version FROM products WHERE id = %s", (product.id,)).fetchone()
    assert row == (winner, seen["version"] + 1)


def test_the_order_workflow(rig: Rig, api: httpx.Client, db: psycopg.Connection[Any],
                            stock_product: Callable[..., Any], stock: Callable[[int], Any]) -> None:
    """Create user, product with stock 10, order 2, it is reserved, pay, stock is 8, fulfil, status fulfilled."""
    user = rig.factory(UserFactory)()
    product = stock_product(rig.factory(ProductFactory)(price_cents=1250, weight_g=500), 10)
    headers = login(api, user.email)
    order = api.post("/orders", json={"items": [{"product_id": product.id, "quantity": 2}]}, headers=headers)
    assert order.status_code == 201, order.text
    order_id, total = order.json()["id"], order.json()["total_cents"]
    assert total == 2500 + order.json()["shipping_cents"]
    wait_for_status(api, headers, order_id, "reserved")
    paid = api.post(f"/orders/{order_id}/pay", headers=headers)
    assert paid.status_code == 200, paid.text
    assert until(lambda: stock(product.id) == (8, 0))  # sold: out of `reserved`, `available` stays 8
    assert db.execute("SELECT amount_cents, charge_id FROM payments WHERE order_id = %s",
                      (order_id,)).fetchone() == (total, f"ch_{order_id}")
    rig.stub("payments").verify(post("/charges")
                                .json_body({"order_id": order_id, "amount_cents": total, "currency": "EUR"}),
                                times=1)
    fulfilled = api.post(f"/orders/{order_id}/fulfil", headers=headers)
    assert fulfilled.status_code == 200, fulfilled.text
    assert db.execute("SELECT status FROM orders WHERE id = %s", (order_id,)).fetchone() == ("fulfilled",)


def test_factory_rows_are_gone_after_the_test(db: psycopg.Connection[Any]) -> None:
    """Runs after the tests above in file order: only the seed is left (reset, not clean-up code)."""
    assert count(db, "users") == 1 and count(db, "products") == 3 and count(db, "orders") == 0
