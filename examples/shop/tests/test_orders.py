"""Orders through the API: pricing (catalogue prices and the shipping quote), the saga's first step
(pending, then reserved or rejected by the inventory), ownership, the status life cycle."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import psycopg
import pytest
from _support import RegisteredUser, assert_error, place, wait_for_status
from factories import OrderFactory, UserFactory

from stackrig import Rig

Stock = Callable[[int], "tuple[int, int] | None"]


def quote(rig: Rig, weight_g: int, country: str = "DE") -> int:
    """What the shipping service (Go) charges, asked directly."""
    return int(rig.http("shipping").get("/quote", params={"weight_g": weight_g, "country": country}).json()["cents"])


def test_an_order_is_pending_then_reserved(
    rig: Rig,
    api: httpx.Client,
    db: psycopg.Connection[Any],
    stock: Stock,
    user: RegisteredUser,
    make_product: Callable[..., dict[str, Any]],
) -> None:
    product = make_product(stock=10, price_cents=1500, weight_g=400)
    response = place(api, user, (product["id"], 2))
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["status"] == "pending" and order["user_id"] == user.id and order["reason"] is None
    shipping = quote(rig, 800)
    assert (order["subtotal_cents"], order["shipping_cents"], order["total_cents"]) == (3000, shipping, 3000 + shipping)
    assert order["items"] == [
        {"product_id": product["id"], "product_name": product["name"], "quantity": 2, "unit_price_cents": 1500}
    ]
    reserved = wait_for_status(api, user.headers, order["id"], "reserved")
    assert reserved == {**order, "status": "reserved"}
    assert stock(product["id"]) == (8, 2)  # held for the order in the inventory's database
    row = db.execute("SELECT user_id, status, total_cents FROM orders WHERE id = %s", (order["id"],)).fetchone()
    assert row == (user.id, "reserved", 3000 + shipping)


def test_lines_for_the_same_product_are_merged(
    api: httpx.Client, stock: Stock, user: RegisteredUser, product: dict[str, Any]
) -> None:
    response = place(api, user, (product["id"], 1), (product["id"], 2))
    assert response.status_code == 201, response.text
    assert [item["quantity"] for item in response.json()["items"]] == [3]
    wait_for_status(api, user.headers, response.json()["id"], "reserved")
    assert stock(product["id"]) == (7, 3)


def test_insufficient_stock_rejects_the_order_and_reserves_nothing(
    api: httpx.Client,
    stock: Stock,
    user: RegisteredUser,
    make_product: Callable[..., dict[str, Any]],
) -> None:
    plenty, scarce = make_product(stock=10), make_product(stock=1)
    # The first line could be served; the inventory must take back what it took for it.
    response = place(api, user, (plenty["id"], 4), (scarce["id"], 2))
    assert response.status_code == 201, response.text
    order = wait_for_status(api, user.headers, response.json()["id"], "rejected")
    assert order["reason"] == f"insufficient stock for product {scarce['id']}: 2 requested, 1 available"
    assert (stock(plenty["id"]), stock(scarce["id"])) == ((10, 0), (1, 0))
    assert_error(api.post(f"/orders/{order['id']}/pay", headers=user.headers), 409, "rejected", "only reserved")


def test_unknown_product_is_422(
    api: httpx.Client, db: psycopg.Connection[Any], user: RegisteredUser, product: dict[str, Any]
) -> None:
    response = place(api, user, (product["id"], 1), (2**62, 1))
    assert_error(response, 422, f"product {2**62}", "does not exist")
    assert db.execute("SELECT count(*) FROM orders").fetchone() == (0,)
    assert db.execute("SELECT count(*) FROM outbox").fetchone() == (0,)  # nothing announced


@pytest.mark.parametrize(
    "body",
    [{"items": []}, {"items": [{"product_id": 1, "quantity": 0}]}, {"items": [{"product_id": 1}]}, {},
     {"items": [{"product_id": 2**63, "quantity": 1}]},
     {"items": [{"product_id": 1, "quantity": 1}], "country": "DEU"}],
    ids=["no-items", "zero-quantity", "missing-quantity", "missing-items", "id-over-bigint", "bad-country"],
)
def test_invalid_order_is_422(api: httpx.Client, user: RegisteredUser, body: dict[str, Any]) -> None:
    assert_error(api.post("/orders", json=body, headers=user.headers), 422, "validation failed")


def test_a_total_over_the_limit_is_422(api: httpx.Client, user: RegisteredUser,
                                        make_product: Callable[..., dict[str, Any]]) -> None:
    dear = make_product(price_cents=2_000_000_000, weight_g=0)
    assert_error(place(api, user, (dear["id"], 2)), 422, "over the limit")


def test_orders_need_a_token(api: httpx.Client, product: dict[str, Any]) -> None:
    assert_error(api.post("/orders", json={"items": [{"product_id": product["id"], "quantity": 1}]}), 401)


def test_other_users_orders_are_invisible(
    api: httpx.Client, register: Callable[..., RegisteredUser], user: RegisteredUser, product: dict[str, Any]
) -> None:
    order = place(api, user, (product["id"], 1)).json()
    wait_for_status(api, user.headers, order["id"], "reserved")
    stranger = register()
    for method, path in (("GET", ""), ("POST", "/pay"), ("POST", "/fulfil")):
        assert_error(api.request(method, f"/orders/{order['id']}{path}", headers=stranger.headers), 404, "not found")
    assert api.get(f"/orders/{order['id']}", headers=user.headers).json()["status"] == "reserved"  # untouched


def test_paying_a_pending_order_is_409(rig: Rig, api: httpx.Client) -> None:
    # A factory's order is in the database only: no orders.created, so it stays pending.
    order = rig.factory(OrderFactory)(user=rig.factory(UserFactory)(email="pending@shop.example"))
    token = api.post("/auth/login", json={"email": "pending@shop.example", "password": "correct horse battery"})
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    response = api.post(f"/orders/{order.id}/pay", headers=headers)
    assert_error(response, 409, "pending", "not reserved yet")
    assert response.headers["retry-after"] == "1"


def test_fulfil_a_reserved_order_is_409(
    api: httpx.Client, db: psycopg.Connection[Any], user: RegisteredUser, product: dict[str, Any]
) -> None:
    order = place(api, user, (product["id"], 1)).json()
    wait_for_status(api, user.headers, order["id"], "reserved")
    assert_error(api.post(f"/orders/{order['id']}/fulfil", headers=user.headers), 409, "reserved", "only paid")
    assert db.execute("SELECT status FROM orders WHERE id = %s", (order["id"],)).fetchone() == ("reserved",)


def test_paid_order_can_be_fulfilled_once(
    api: httpx.Client, db: psycopg.Connection[Any], user: RegisteredUser, product: dict[str, Any]
) -> None:
    order = place(api, user, (product["id"], 1)).json()
    wait_for_status(api, user.headers, order["id"], "reserved")
    paid = api.post(f"/orders/{order['id']}/pay", headers=user.headers)
    assert paid.status_code == 200, paid.text
    fulfilled = api.post(f"/orders/{order['id']}/fulfil", headers=user.headers)
    assert fulfilled.status_code == 200, fulfilled.text
    assert fulfilled.json()["status"] == "fulfilled"
    assert_error(api.post(f"/orders/{order['id']}/fulfil", headers=user.headers), 409, "fulfilled")
    history = db.execute("SELECT status FROM order_status_history WHERE order_id = %s ORDER BY id",
                         (order["id"],)).fetchall()
    assert [s for (s,) in history] == ["pending", "reserved", "paid", "fulfilled"]


def test_deleting_a_user_deletes_their_orders(
    api: httpx.Client, db: psycopg.Connection[Any], user: RegisteredUser, product: dict[str, Any]
) -> None:
    order = place(api, user, (product["id"], 1)).json()
    wait_for_status(api, user.headers, order["id"], "reserved")
    db.execute("DELETE FROM users WHERE id = %s", (user.id,))
    for table, column in (("orders", "id"), ("order_items", "order_id"), ("order_status_history", "order_id")):
        assert db.execute(f"SELECT count(*) FROM {table} WHERE {column} = %s", (order["id"],)).fetchone() == (0,)


def test_deleting_a_product_keeps_the_order_history(
    api: httpx.Client, user: RegisteredUser, product: dict[str, Any]
) -> None:
    order = place(api, user, (product["id"], 2)).json()
    wait_for_status(api, user.headers, order["id"], "reserved")
    assert api.delete(f"/products/{product['id']}", headers=user.headers).status_code == 204
    item = api.get(f"/orders/{order['id']}", headers=user.headers).json()["items"][0]
    assert item == {
        "product_id": None,
        "product_name": product["name"],
        "quantity": 2,
        "unit_price_cents": product["price_cents"],
    }


def test_pay_without_a_gateway_is_503_and_the_order_stays_reserved(
    rig: Rig, api: httpx.Client, db: psycopg.Connection[Any], user: RegisteredUser, product: dict[str, Any]
) -> None:
    if "PAYMENT_GATEWAY_URL" in rig.env:
        pytest.skip("this stack configures a payment gateway")
    order = place(api, user, (product["id"], 1)).json()
    wait_for_status(api, user.headers, order["id"], "reserved")
    assert_error(api.post(f"/orders/{order['id']}/pay", headers=user.headers), 503, "PAYMENT_GATEWAY_URL")
    assert db.execute("SELECT status FROM orders WHERE id = %s", (order["id"],)).fetchone() == ("reserved",)
