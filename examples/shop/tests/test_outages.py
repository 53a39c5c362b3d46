"""The seeds' resilience scenarios, for real: an external payment gateway (an http-stub service
loaded from stubs/payments), the database and Redis behind stackrig's fault proxy, the welcome
e-mail through an SMTP service, and the API itself taken down and brought back.

Stubs, toxics and the mailbox are reset after each test by stackrig; the circuit breaker lives in
the app, so tests that trip it close it again.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import psycopg
import pytest
from _support import assert_error
from factories import PASSWORD, ProductFactory, UserFactory

from stackrig import Rig
from stackrig.stub import post


def place_order(rig: Rig, api: httpx.Client, *, price_cents: int = 1500) -> tuple[int, dict[str, str]]:
    user = rig.factory(UserFactory)()
    product = rig.factory(ProductFactory)(price_cents=price_cents, stock=10)
    token = api.post("/auth/login", json={"email": user.email, "password": PASSWORD}).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    order = api.post("/orders", json={"items": [{"product_id": product.id, "quantity": 1}]}, headers=headers)
    assert order.status_code == 201, order.text
    return int(order.json()["id"]), headers


def order_status(db: psycopg.Connection[Any], order_id: int) -> str:
    return str(db.execute("SELECT status FROM orders WHERE id = %s", (order_id,)).fetchone()[0])  # type: ignore[index]


def until(check: Any, timeout: float = 30.0) -> Any:
    """Poll `check` until it returns something true (a bound on waiting, not a speed assertion)."""
    end = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > end:
            return result
        time.sleep(0.1)


def test_a_declined_card_leaves_the_order_pending(rig: Rig, api: httpx.Client, db: psycopg.Connection[Any]) -> None:
    order_id, headers = place_order(rig, api, price_cents=2402)  # the mapping declines amounts ending in 402
    assert_error(api.post(f"/orders/{order_id}/pay", headers=headers), 402, "declined", "card_declined")
    assert order_status(db, order_id) == "pending"
    assert db.execute("SELECT count(*) FROM payments WHERE order_id = %s", (order_id,)).fetchone() == (0,)
    rig.stub("payments").verify(post("/charges").json_body({"order_id": order_id, "amount_cents": 2402,
                                                            "currency": "EUR"}), times=1)


def test_a_gateway_timeout_is_a_504_and_the_order_stays_pending(rig: Rig, api: httpx.Client,
                                                                 db: psycopg.Connection[Any]) -> None:
    stub = rig.stub("payments")
    slow = stub.on(post("/charges"), priority=1).reply(201, json={"id": "ch_late"}, delay_ms=3000)
    order_id, headers = place_order(rig, api)
    assert_error(api.post(f"/orders/{order_id}/pay", headers=headers), 504, "timed out")
    assert order_status(db, order_id) == "pending"
    slow.remove()
    assert api.post(f"/orders/{order_id}/pay", headers=headers).status_code == 200  # and the breaker is closed
    assert order_status(db, order_id) == "paid"


def test_the_circuit_breaker_opens_after_3_failures_fails_fast_then_closes(
        rig: Rig, api: httpx.Client, db: psycopg.Connection[Any]) -> None:
    stub = rig.stub("payments")
    order_id, headers = place_order(rig, api)
    warm, warm_headers = place_order(rig, api)
    assert api.post(f"/orders/{warm}/pay", headers=warm_headers).status_code == 200  # count starts at 0
    broken = stub.on(post("/charges"), priority=1).reply(500, json={"error": "internal"})
    for _ in range(3):
        assert_error(api.post(f"/orders/{order_id}/pay", headers=headers), 502, "answered 500")
    # open: the API answers at once, without calling the gateway
    assert_error(api.post(f"/orders/{order_id}/pay", headers=headers), 503, "unavailable")
    stub.verify(post("/charges").json_body({"order_id": order_id}, ignore_extra_elements=True), times=3)
    broken.remove()
    # after the cool-down (1 s in this stack) one trial call goes through and closes the breaker
    paid = until(lambda: api.post(f"/orders/{order_id}/pay", headers=headers).status_code == 200)
    assert paid
    assert order_status(db, order_id) == "paid"
    stub.verify(post("/charges").json_body({"order_id": order_id}, ignore_extra_elements=True), times=4)


def test_database_down_is_a_503_and_the_app_recovers(rig: Rig, api: httpx.Client) -> None:
    with rig.fault("db").down():  # the proxy closes the app's connections and refuses new ones
        response = api.get("/health")
        assert response.status_code == 503
        assert response.json() == {"error": "Service temporarily unavailable"}
        assert_error(api.get("/products"), 503, "Service temporarily unavailable")
    recovered = until(lambda: api.get("/health").status_code == 200)
    assert recovered
    assert api.get("/products").status_code == 200


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
