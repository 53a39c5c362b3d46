"""The seeds' resilience scenarios, for real: an external payment gateway (an http-stub service
loaded from stubs/payments), the databases, Redis and the shipping service behind stackrig's fault
proxy, e-mail through an SMTP service, and the services themselves — the API, the inventory, the
notifications worker — taken down and brought back.

A payment that is declined or fails cancels the order (the saga's compensation, see test_saga.py);
an open circuit breaker refuses at once and leaves the order reserved.  Stubs, toxics and the
mailbox are reset after each test by stackrig; the circuit breaker lives in the app, so tests that
trip it close it again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import psycopg
import pytest
from _support import assert_error, until, wait_for_status
from factories import PASSWORD, ProductFactory, UserFactory

from stackrig import Rig
from stackrig.stub import post


@pytest.fixture
def place_order(rig: Rig, api: httpx.Client,
                stock_product: Callable[..., Any]) -> Callable[..., tuple[int, dict[str, str]]]:
    """A reserved order of one product (factory rows, stocked in the inventory); (id, auth headers)."""

    def _place(*, price_cents: int = 1500, reserved: bool = True) -> tuple[int, dict[str, str]]:
        user = rig.factory(UserFactory)()
        product = stock_product(rig.factory(ProductFactory)(price_cents=price_cents), 10)
        token = api.post("/auth/login", json={"email": user.email, "password": PASSWORD}).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        order = api.post("/orders", json={"items": [{"product_id": product.id, "quantity": 1}]}, headers=headers)
        assert order.status_code == 201, order.text
        if reserved:
            wait_for_status(api, headers, order.json()["id"], "reserved")
        return int(order.json()["id"]), headers

    return _place


def order_status(db: psycopg.Connection[Any], order_id: int) -> str:
    return str(db.execute("SELECT status FROM orders WHERE id = %s", (order_id,)).fetchone()[0])  # type: ignore[index]


def test_a_declined_card_cancels_the_order(rig: Rig, api: httpx.Client, db: psycopg.Connection[Any],
                                           place_order: Callable[..., Any]) -> None:
    # the mapping declines amounts ending in 402: 1912 + the domestic quote for 500 g (490)
    order_id, headers = place_order(price_cents=1912)
    assert_error(api.post(f"/orders/{order_id}/pay", headers=headers), 402, "declined", "card_declined", "cancelled")
    assert order_status(db, order_id) == "cancelled"
    assert db.execute("SELECT count(*) FROM payments WHERE order_id = %s", (order_id,)).fetchone() == (0,)
    rig.stub("payments").verify(post("/charges").json_body({"order_id": order_id, "amount_cents": 2402,
                                                            "currency": "EUR"}), times=1)


def test_a_gateway_timeout_is_a_504_and_cancels_the_order(rig: Rig, api: httpx.Client, db: psycopg.Connection[Any],
                                                          place_order: Callable[..., Any]) -> None:
    stub = rig.stub("payments")
    slow = stub.on(post("/charges"), priority=1).reply(201, json={"id": "ch_late"}, delay_ms=3000)
    order_id, headers = place_order()
    assert_error(api.post(f"/orders/{order_id}/pay", headers=headers), 504, "timed out", "cancelled")
    assert order_status(db, order_id) == "cancelled"
    slow.remove()
    again, again_headers = place_order()
    assert api.post(f"/orders/{again}/pay", headers=again_headers).status_code == 200  # and the breaker is closed
    assert order_status(db, again) == "paid"


def test_the_circuit_breaker_opens_after_3_failures_fails_fast_then_closes(
        rig: Rig, api: httpx.Client, db: psycopg.Connection[Any], place_order: Callable[..., Any]) -> None:
    stub = rig.stub("payments")
    warm, warm_headers = place_order()
    assert api.post(f"/orders/{warm}/pay", headers=warm_headers).status_code == 200  # count starts at 0
    broken = stub.on(post("/charges"), priority=1).reply(500, json={"error": "internal"})
    for _ in range(3):  # each failure cancels its order
        failed, failed_headers = place_order()
        assert_error(api.post(f"/orders/{failed}/pay", headers=failed_headers), 502, "answered 500", "cancelled")
        assert order_status(db, failed) == "cancelled"
    # open: the API answers at once, without calling the gateway, and the order stays reserved
    order_id, headers = place_order()
    assert_error(api.post(f"/orders/{order_id}/pay", headers=headers), 503, "unavailable")
    assert order_status(db, order_id) == "reserved"
    stub.verify(post("/charges").json_body({"order_id": order_id}, ignore_extra_elements=True), times=0)
    broken.remove()
    # after the cool-down (1 s in this stack) one trial call goes through and closes the breaker
    paid = until(lambda: api.post(f"/orders/{order_id}/pay", headers=headers).status_code == 200, timeout=30)
    assert paid
    assert order_status(db, order_id) == "paid"
    stub.verify(post("/charges").json_body({"order_id": order_id}, ignore_extra_elements=True), times=1)


def test_database_down_is_a_503_and_the_app_recovers(rig: Rig, api: httpx.Client) -> None:
    with rig.fault("db").down():  # the proxy closes the apps' connections and refuses new ones
        response = api.get("/health")
        assert response.status_code == 503
        assert response.json() == {"error": "Service temporarily unavailable"}
        assert_error(api.get("/products"), 503, "Service temporarily unavailable")
        assert rig.http("inventory").get("/health").status_code == 503  # its database is on the same server
    recovered = until(lambda: api.get("/health").status_code == 200)
    assert recovered
    assert api.get("/products").status_code == 200
    assert until(lambda: rig.http("inventory").get("/health").status_code == 200)


def test_redis_down_product_reads_are_still_served(rig: Rig, api: httpx.Client) -> None:
    assert api.get("/products/2").status_code == 200  # fills the cache
    with rig.fault("cache").down():
        response = api.get("/products/2")
        assert response.status_code == 200, response.text
        assert response.json()["name"] == "Grinder"  # from PostgreSQL
        assert api.get("/products/3").json()["name"] == "Beans 1 kg"
    assert api.get("/products/2").status_code == 200


def test_slow_database_still_answers(rig: Rig, api: httpx.Client) -> None:
    with rig.fault("db").latency(200):
        started = time.monotonic()
        assert api.get("/products").status_code == 200
        assert time.monotonic() - started >= 0.2  # every query waited for the slow link


def test_shipping_down_no_order_can_be_priced(rig: Rig, api: httpx.Client, db: psycopg.Connection[Any],
                                             place_order: Callable[..., Any]) -> None:
    with rig.fault("shipping").down():
        user = rig.factory(UserFactory)()
        token = api.post("/auth/login", json={"email": user.email, "password": PASSWORD}).json()["access_token"]
        response = api.post("/orders", json={"items": [{"product_id": 1, "quantity": 1}]},
                            headers={"Authorization": f"Bearer {token}"})
        assert_error(response, 503, "shipping quotes are unavailable")
        assert response.headers["retry-after"] == "1"
        assert db.execute("SELECT count(*) FROM orders").fetchone() == (0,)
    order_id, _ = place_order()  # and back
    assert order_status(db, order_id) == "reserved"


def test_orders_wait_while_the_inventory_is_down(rig: Rig, api: httpx.Client, db: psycopg.Connection[Any],
                                                 place_order: Callable[..., Any]) -> None:
    inventory = rig["inventory"]
    inventory.stop()
    try:
        order_id, headers = place_order(reserved=False)
        time.sleep(0.5)
        assert order_status(db, order_id) == "pending"  # announced; the event waits in the stream
        info = rig.client("events", "jetstream").consumer_info("SHOP", "inventory")
        assert info["num_pending"] >= 1
    finally:
        inventory.start()
    wait_for_status(api, headers, order_id, "reserved", timeout=30)


def test_e_mails_wait_while_the_notifications_worker_is_down(
        rig: Rig, api: httpx.Client, place_order: Callable[..., Any]) -> None:
    order_id, headers = place_order()
    rig["notifications"].stop()
    try:
        assert api.post(f"/orders/{order_id}/pay", headers=headers).status_code == 200
        time.sleep(0.5)
        assert rig.mail("smtp").find(subject="is paid") == []
    finally:
        rig["notifications"].start()
    assert rig.mail("smtp").wait_for(subject=f"Your order #{order_id} is paid", timeout=30)


def test_an_e_mail_the_mail_server_refused_is_sent_when_it_is_back(
        rig: Rig, api: httpx.Client, place_order: Callable[..., Any]) -> None:
    order_id, headers = place_order()
    rig["smtp"].stop()
    try:
        assert api.post(f"/orders/{order_id}/pay", headers=headers).status_code == 200
        refused = f"orders.paid for order {order_id}: e-mail to"
        assert until(lambda: any(refused in line and "failed, retrying" in line
                                 for line in rig["notifications"].logs().splitlines()), timeout=15)
    finally:
        rig["smtp"].start()
    # the worker did not acknowledge the event: JetStream delivers it again, and now it goes out
    assert rig.mail("smtp").wait_for(subject=f"Your order #{order_id} is paid", timeout=30)


def test_registration_sends_a_welcome_mail(rig: Rig, api: httpx.Client) -> None:
    email = "new.customer@shop.example"
    created = api.post("/auth/register", json={"email": email, "password": "pw-123456", "name": "New Customer"})
    assert created.status_code == 201, created.text
    mail = rig.mail("smtp").wait_for(to=email)
    assert mail.subject == "Welcome to the shop"
    assert "New Customer" in mail.body


def test_registration_succeeds_while_the_mail_server_is_down(rig: Rig, api: httpx.Client) -> None:
    rig["smtp"].stop()
    try:
        created = api.post("/auth/register", json={"email": "quiet@shop.example", "password": "pw-123456",
                                                   "name": "Quiet"})
        assert created.status_code == 201, created.text
    finally:
        rig["smtp"].start()
    assert rig.mail("smtp").find(to="quiet@shop.example") == []


def test_the_api_taken_down_and_brought_back(rig: Rig) -> None:
    api = rig["api"]
    api.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(api.url + "/health")
    api.start()
    assert httpx.get(api.url + "/health").status_code == 200
