"""Orders: stock reservation in one transaction, ownership, the status life cycle."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import psycopg
import pytest
from _support import RegisteredUser, assert_error

from stackrig import Rig


def place(api: httpx.Client, user: RegisteredUser, *lines: tuple[int, int]) -> httpx.Response:
    items = [{"product_id": product_id, "quantity": quantity} for product_id, quantity in lines]
    return api.post("/orders", json={"items": items}, headers=user.headers)


def stock(db: psycopg.Connection[Any], product: dict[str, Any]) -> int:
    row = db.execute("SELECT stock FROM products WHERE id = %s", (product["id"],)).fetchone()
    assert row is not None
    return int(row[0])


def test_order_reserves_stock(
    api: httpx.Client,
    db: psycopg.Connection[Any],
    user: RegisteredUser,
    make_product: Callable[..., dict[str, Any]],
) -> None:
    product = make_product(stock=10, price_cents=1500)
    response = place(api, user, (product["id"], 2))
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["status"] == "pending" and order["user_id"] == user.id
    assert order["total_cents"] == 3000
    assert order["items"] == [
        {
            "product_id": product["id"],
            "product_name": product["name"],
            "quantity": 2,
            "unit_price_cents": 1500,
        }
    ]
    assert stock(db, product) == 8
    row = db.execute(
        "SELECT user_id, status, total_cents FROM orders WHERE id = %s", (order["id"],)
    ).fetchone()
    assert row == (user.id, "pending", 3000)
    assert api.get(f"/orders/{order['id']}", headers=user.headers).json() == order


def test_lines_for_the_same_product_are_merged(
    api: httpx.Client, db: psycopg.Connection[Any], user: RegisteredUser, product: dict[str, Any]
) -> None:
    response = place(api, user, (product["id"], 1), (product["id"], 2))
    assert response.status_code == 201, response.text
    assert [item["quantity"] for item in response.json()["items"]] == [3]
    assert stock(db, product) == product["stock"] - 3


def test_insufficient_stock_is_409_and_reserves_nothing(
    api: httpx.Client,
    db: psycopg.Connection[Any],
    user: RegisteredUser,
    make_product: Callable[..., dict[str, Any]],
) -> None:
    plenty, scarce = make_product(stock=10), make_product(stock=1)
    before = db.execute("SELECT count(*) FROM orders WHERE user_id = %s", (user.id,)).fetchone()
    # The first line could be served; the transaction must roll it back with the second.
    response = place(api, user, (plenty["id"], 4), (scarce["id"], 2))
    assert_error(response, 409, "insufficient stock", f"product {scarce['id']}", "2 requested", "1 available")
    assert (stock(db, plenty), stock(db, scarce)) == (10, 1)
    assert db.execute("SELECT count(*) FROM orders WHERE user_id = %s", (user.id,)).fetchone() == before


def test_unknown_product_is_422(
    api: httpx.Client, db: psycopg.Connection[Any], user: RegisteredUser, product: dict[str, Any]
) -> None:
    response = place(api, user, (product["id"], 1), (2**62, 1))
    assert_error(response, 422, f"product {2**62}", "does not exist")
    assert stock(db, product) == product["stock"]


@pytest.mark.parametrize(
    "body",
    [{"items": []}, {"items": [{"product_id": 1, "quantity": 0}]}, {"items": [{"product_id": 1}]}, {}],
    ids=["no-items", "zero-quantity", "missing-quantity", "missing-items"],
)
def test_invalid_order_is_422(api: httpx.Client, user: RegisteredUser, body: dict[str, Any]) -> None:
    assert_error(api.post("/orders", json=body, headers=user.headers), 422, "validation failed")


def test_orders_need_a_token(api: httpx.Client, product: dict[str, Any]) -> None:
    assert_error(api.post("/orders", json={"items": [{"product_id": product["id"], "quantity": 1}]}), 401)


def test_other_users_orders_are_invisible(
    api: httpx.Client, register: Callable[..., RegisteredUser], user: RegisteredUser, product: dict[str, Any]
) -> None:
    order = place(api, user, (product["id"], 1)).json()
    stranger = register()
    assert_error(api.get(f"/orders/{order['id']}", headers=stranger.headers), 404, "not found")
    assert_error(api.post(f"/orders/{order['id']}/fulfil", headers=stranger.headers), 404, "not found")


def test_fulfil_a_pending_order_is_409(
    api: httpx.Client, db: psycopg.Connection[Any], user: RegisteredUser, product: dict[str, Any]
) -> None:
    order = place(api, user, (product["id"], 1)).json()
    assert_error(api.post(f"/orders/{order['id']}/fulfil", headers=user.headers), 409, "pending", "only paid")
    assert db.execute("SELECT status FROM orders WHERE id = %s", (order["id"],)).fetchone() == ("pending",)


def test_paid_order_can_be_fulfilled_once(
    api: httpx.Client, db: psycopg.Connection[Any], user: RegisteredUser, product: dict[str, Any]
) -> None:
    order = place(api, user, (product["id"], 1)).json()
    # Payment needs a gateway; mark the order paid directly, as the payment step would.
    db.execute("UPDATE orders SET status = 'paid' WHERE id = %s", (order["id"],))
    fulfilled = api.post(f"/orders/{order['id']}/fulfil", headers=user.headers)
    assert fulfilled.status_code == 200, fulfilled.text
    assert fulfilled.json()["status"] == "fulfilled"
    assert_error(api.post(f"/orders/{order['id']}/fulfil", headers=user.headers), 409, "fulfilled")


def test_deleting_a_user_deletes_their_orders(
    api: httpx.Client, db: psycopg.Connection[Any], user: RegisteredUser, product: dict[str, Any]
) -> None:
    order = place(api, user, (product["id"], 1)).json()
    db.execute("DELETE FROM users WHERE id = %s", (user.id,))
    assert db.execute("SELECT count(*) FROM orders WHERE id = %s", (order["id"],)).fetchone() == (0,)
    assert db.execute("SELECT count(*) FROM order_items WHERE order_id = %s", (order["id"],)).fetchone() == (
        0,
    )


def test_deleting_a_product_keeps_the_order_history(
    api: httpx.Client, user: RegisteredUser, product: dict[str, Any]
) -> None:
    order = place(api, user, (product["id"], 2)).json()
    assert api.delete(f"/products/{product['id']}", headers=user.headers).status_code == 204
    item = api.get(f"/orders/{order['id']}", headers=user.headers).json()["items"][0]
    assert item == {
        "product_id": None,
        "product_name": product["name"],
        "quantity": 2,
        "unit_price_cents": product["price_cents"],
    }


def test_pay_without_a_gateway_is_503_and_the_order_stays_pending(
    rig: Rig, api: httpx.Client, db: psycopg.Connection[Any], user: RegisteredUser, product: dict[str, Any]
) -> None:
    if "PAYMENT_GATEWAY_URL" in rig.env:
        pytest.skip("this stack configures a payment gateway")
    order = place(api, user, (product["id"], 1)).json()
    assert_error(api.post(f"/orders/{order['id']}/pay", headers=user.headers), 503, "PAYMENT_GATEWAY_URL")
    assert db.execute("SELECT status FROM orders WHERE id = %s", (order["id"],)).fetchone() == ("pending",)
    assert db.execute("SELECT count(*) FROM payments WHERE order_id = %s", (order["id"],)).fetchone() == (0,)
