"""The order saga across the system, end to end: the API (Python), the inventory (Node.js), the
notifications worker, the bus (NATS JetStream), both databases, the payment-gateway stub and the
mailbox — asserted on what each one did, never on sleeps.

Taps (``rig.events("events", ...)``) are core subscriptions on the test's own connection: they
see a copy of every event the services publish, and take nothing away from the services' durable
consumers.  ``rig.publish(..., jetstream=True)`` puts an event in a stream as a service would:
that is how a redelivery is made.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import psycopg
import pytest
from _support import RegisteredUser, assert_error, place, settle, until, wait_for_status

from stackrig import Rig
from stackrig.stub import post

Stock = Callable[[int], "tuple[int, int] | None"]


@pytest.fixture
def taps(rig: Rig) -> tuple[Any, Any]:
    """Taps on everything the shop and the inventory publish, from the test's first line."""
    return rig.events("events", "orders.>"), rig.events("events", "inventory.>")


def reservation(inventory_db: psycopg.Connection[Any], order_id: int) -> tuple[str, str | None] | None:
    row = inventory_db.execute("SELECT status, reason FROM reservations WHERE order_id = %s", (order_id,)).fetchone()
    return (row[0], row[1]) if row else None


def stored(rig: Rig, stream: str, subject: str) -> int:
    """How many messages on `subject` the stream holds (a duplicate publish is stored once)."""
    info = rig.client("events", "jetstream").api(f"STREAM.INFO.{stream}", {"subjects_filter": subject})
    return int((info["state"].get("subjects") or {}).get(subject, 0))


def history(db: psycopg.Connection[Any], order_id: int) -> list[str]:
    rows = db.execute("SELECT status FROM order_status_history WHERE order_id = %s ORDER BY id", (order_id,))
    return [status for (status,) in rows.fetchall()]


def test_the_happy_path_from_order_to_email(
    rig: Rig, api: httpx.Client, db: psycopg.Connection[Any], inventory_db: psycopg.Connection[Any],
    stock: Stock, user: RegisteredUser, make_product: Callable[..., dict[str, Any]], taps: tuple[Any, Any],
) -> None:
    orders, inventory = taps
    product = make_product(stock=10, price_cents=1500, weight_g=250)
    created = place(api, user, (product["id"], 2))
    assert created.status_code == 201, created.text
    order = created.json()
    order_id, total = order["id"], order["total_cents"]

    # 1. the API announces the order ...
    ev = orders.wait_for("orders.created", match={"order_id": order_id})
    assert ev.body == {"order_id": order_id, "user_id": user.id, "total_cents": total,
                       "items": [{"product_id": product["id"], "quantity": 2}]}
    assert ev.headers["content-type"] == "application/json"
    assert ev.headers["nats-msg-id"]  # the outbox row's id: a retried publish is stored once
    assert ev.meta["stream"] == "SHOP"
    # 2. ... the inventory (Node.js) reserves the stock in its own database ...
    ev = inventory.wait_for("inventory.reserved", match={"order_id": order_id})
    assert ev.body == {"order_id": order_id, "items": [{"product_id": product["id"], "quantity": 2}]}
    assert ev.meta["stream"] == "INVENTORY"
    assert wait_for_status(api, user.headers, order_id, "reserved")["status"] == "reserved"
    assert stock(product["id"]) == (8, 2)
    assert reservation(inventory_db, order_id) == ("reserved", None)

    # 3. ... the customer pays: one charge at the gateway, for the total with shipping ...
    paid = api.post(f"/orders/{order_id}/pay", headers=user.headers)
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "paid"
    rig.stub("payments").verify(post("/charges").header("Idempotency-Key", f"order-{order_id}")
                                .json_body({"order_id": order_id, "amount_cents": total, "currency": "EUR"}),
                                times=1)
    ev = orders.wait_for("orders.paid", match={"order_id": order_id})
    assert ev.body == {"order_id": order_id, "user_id": user.id, "email": user.email, "name": user.name,
                       "total_cents": total, "currency": "EUR", "charge_id": f"ch_{order_id}"}

    # 4. ... the notifications worker e-mails the customer, and the inventory has sold the units
    mail = rig.mail("smtp").wait_for(to=user.email, subject="is paid")
    assert mail.subject == f"Your order #{order_id} is paid"
    assert f"{total / 100:.2f} EUR" in mail.body and user.name in mail.body
    assert until(lambda: reservation(inventory_db, order_id) == ("sold", None))
    assert stock(product["id"]) == (8, 0)
    assert db.execute("SELECT amount_cents, charge_id FROM payments WHERE order_id = %s",
                      (order_id,)).fetchone() == (total, f"ch_{order_id}")
    assert history(db, order_id) == ["pending", "reserved", "paid"]

    # and nothing else happened
    settle(rig)
    orders.expect_none("orders.cancelled", during=0.1)
    inventory.expect_none("inventory.rejected", during=0)
    inventory.expect_none("inventory.released", during=0)
    assert [e.subject for e in orders.events] == ["orders.created", "orders.paid"]
    assert [e.subject for e in inventory.events] == ["inventory.reserved"]
    assert len(rig.mail("smtp").find(to=user.email)) == 2  # the welcome e-mail and this one


def test_a_declined_payment_cancels_the_order_and_releases_the_stock(
    rig: Rig, api: httpx.Client, db: psycopg.Connection[Any], inventory_db: psycopg.Connection[Any],
    stock: Stock, user: RegisteredUser, make_product: Callable[..., dict[str, Any]], taps: tuple[Any, Any],
) -> None:
    orders, inventory = taps
    product = make_product(stock=10)
    order_id = place(api, user, (product["id"], 3)).json()["id"]
    wait_for_status(api, user.headers, order_id, "reserved")
    assert stock(product["id"]) == (7, 3)
    rig.stub("payments").on(post("/charges").json_body({"order_id": order_id}, ignore_extra_elements=True),
                            priority=1).reply(402, json={"error": "insufficient_funds"})

    declined = api.post(f"/orders/{order_id}/pay", headers=user.headers)
    assert_error(declined, 402, "payment declined by the gateway: insufficient_funds",
                 "the order is cancelled and its items released")

    # compensation: orders.cancelled, the inventory releases the stock, the customer is told
    ev = orders.wait_for("orders.cancelled", match={"order_id": order_id})
    assert ev.body["reason"] == "payment declined by the gateway: insufficient_funds"
    assert ev.body["email"] == user.email
    released = inventory.wait_for("inventory.released", match={"order_id": order_id})
    assert released.body["items"] == [{"product_id": product["id"], "quantity": 3}]
    assert stock(product["id"]) == (10, 0)
    assert reservation(inventory_db, order_id) == ("released", None)
    mail = rig.mail("smtp").wait_for(to=user.email, subject="was cancelled")
    assert mail.subject == f"Your order #{order_id} was cancelled"
    assert "insufficient_funds" in mail.body and "nothing was charged" in mail.body

    order = api.get(f"/orders/{order_id}", headers=user.headers).json()
    assert (order["status"], order["reason"]) == ("cancelled", "payment declined by the gateway: insufficient_funds")
    assert history(db, order_id) == ["pending", "reserved", "cancelled"]
    assert db.execute("SELECT count(*) FROM payments WHERE order_id = %s", (order_id,)).fetchone() == (0,)
    assert_error(api.post(f"/orders/{order_id}/pay", headers=user.headers), 409, "cancelled")
    rig.stub("payments").verify(post("/charges"), times=1)  # no second attempt
    orders.expect_none("orders.paid", during=0.2)


def test_insufficient_stock_rejects_the_order_and_nothing_is_charged(
    rig: Rig, api: httpx.Client, inventory_db: psycopg.Connection[Any], stock: Stock,
    user: RegisteredUser, make_product: Callable[..., dict[str, Any]], taps: tuple[Any, Any],
) -> None:
    orders, inventory = taps
    product = make_product(stock=2)
    order_id = place(api, user, (product["id"], 3)).json()["id"]
    ev = inventory.wait_for("inventory.rejected", match={"order_id": order_id})
    reason = f"insufficient stock for product {product['id']}: 3 requested, 2 available"
    assert ev.body == {"order_id": order_id, "reason": reason}
    order = wait_for_status(api, user.headers, order_id, "rejected")
    assert order["reason"] == reason
    assert reservation(inventory_db, order_id) == ("rejected", reason)
    assert stock(product["id"]) == (2, 0)

    assert_error(api.post(f"/orders/{order_id}/pay", headers=user.headers), 409, "rejected")
    settle(rig)
    rig.stub("payments").verify(post("/charges"), times=0)  # no charge was ever attempted
    inventory.expect_none("inventory.reserved", during=0.1)
    orders.expect_none("orders.paid", during=0)
    orders.expect_none("orders.cancelled", during=0)  # nothing to release
    assert rig.mail("smtp").find(subject=f"#{order_id}") == []


def test_the_bus_down_mid_saga_loses_nothing(
    rig: Rig, api: httpx.Client, db: psycopg.Connection[Any], stock: Stock,
    user: RegisteredUser, make_product: Callable[..., dict[str, Any]], taps: tuple[Any, Any],
) -> None:
    orders, inventory = taps
    product = make_product(stock=5)
    bus = rig.fault("events")  # the services' connections go through the fault proxy; the taps do not

    # The bus goes away before the order is announced: it waits in the API's outbox.
    with bus.down():
        order_id = place(api, user, (product["id"], 1)).json()["id"]
        orders.expect_none("orders.created", during=1.0)
        assert db.execute("SELECT subject FROM outbox").fetchall() == [("orders.created",)]
        assert api.get(f"/orders/{order_id}", headers=user.headers).json()["status"] == "pending"
    # back: the API's publisher retries, the inventory's durable consumer gets it, the saga goes on
    wait_for_status(api, user.headers, order_id, "reserved", timeout=30)
    assert stock(product["id"]) == (4, 1)

    # The bus goes away again after the payment: the charge stands, the e-mail waits.
    with bus.down():
        paid = api.post(f"/orders/{order_id}/pay", headers=user.headers)
        assert paid.status_code == 200, paid.text
        orders.expect_none("orders.paid", during=1.0)
        assert rig.mail("smtp").find(subject="is paid") == []
    orders.wait_for("orders.paid", match={"order_id": order_id}, timeout=30)
    assert rig.mail("smtp").wait_for(to=user.email, subject="is paid", timeout=30)
    settle(rig)
    # every event stored once, whatever the retries sent (the stream drops repeats of a Nats-Msg-Id)
    assert (stored(rig, "SHOP", "orders.created"), stored(rig, "SHOP", "orders.paid")) == (1, 1)
    assert stored(rig, "INVENTORY", "inventory.reserved") == 1
    assert len(rig.mail("smtp").find(subject="is paid")) == 1
    assert stock(product["id"]) == (4, 0)
    assert "bus: disconnected" in rig["api"].logs()


def test_a_redelivered_event_changes_nothing(
    rig: Rig, api: httpx.Client, db: psycopg.Connection[Any], inventory_db: psycopg.Connection[Any],
    stock: Stock, user: RegisteredUser, make_product: Callable[..., dict[str, Any]], taps: tuple[Any, Any],
) -> None:
    orders, inventory = taps
    product = make_product(stock=10)
    order_id = place(api, user, (product["id"], 2)).json()["id"]
    wait_for_status(api, user.headers, order_id, "reserved")
    assert api.post(f"/orders/{order_id}/pay", headers=user.headers).status_code == 200
    rig.mail("smtp").wait_for(to=user.email, subject="is paid")
    settle(rig)
    before = (stock(product["id"]), reservation(inventory_db, order_id), history(db, order_id))
    assert before == ((8, 0), ("sold", None), ["pending", "reserved", "paid"])
    captured = [orders.wait_for("orders.created"), inventory.wait_for("inventory.reserved"),
                orders.wait_for("orders.paid")]

    # every event once more, as JetStream delivers again what was not acknowledged in time
    after = rig.events("events", "inventory.>")
    for ev in captured:
        rig.publish("events", ev.subject, ev.body, jetstream=True)
    settle(rig)  # every consumer has taken and acknowledged its copy
    assert (stock(product["id"]), reservation(inventory_db, order_id), history(db, order_id)) == before
    assert [e.subject for e in after.events] == ["inventory.reserved"]  # ours: the inventory published nothing
    assert len(rig.mail("smtp").find(subject="is paid")) == 1  # no second e-mail
    rig.stub("payments").verify(post("/charges"), times=1)
    assert f"orders.created {order_id} (delivery 1): duplicate" in rig["inventory"].logs()
    assert f"orders.paid for order {order_id}: already e-mailed" in rig["notifications"].logs()


def test_a_redelivered_cancellation_releases_the_stock_once(
    rig: Rig, api: httpx.Client, stock: Stock, user: RegisteredUser,
    make_product: Callable[..., dict[str, Any]], taps: tuple[Any, Any],
) -> None:
    orders, inventory = taps
    product = make_product(stock=4)
    order_id = place(api, user, (product["id"], 3)).json()["id"]
    wait_for_status(api, user.headers, order_id, "reserved")
    rig.stub("payments").on(post("/charges"), priority=1).reply(402, json={"error": "card_declined"})
    assert api.post(f"/orders/{order_id}/pay", headers=user.headers).status_code == 402
    cancelled = orders.wait_for("orders.cancelled", match={"order_id": order_id})
    inventory.wait_for("inventory.released", match={"order_id": order_id})
    settle(rig)
    assert stock(product["id"]) == (4, 0)

    rig.publish("events", "orders.cancelled", cancelled.body, jetstream=True)
    rig.publish("events", "orders.cancelled", cancelled.body, jetstream=True)
    settle(rig)
    assert stock(product["id"]) == (4, 0)  # not 10: released once
    assert inventory.count("inventory.released") == 1
    assert len(rig.mail("smtp").find(subject="was cancelled")) == 1


def test_an_event_the_services_cannot_read_is_dropped_not_retried_forever(
    rig: Rig, api: httpx.Client, stock: Stock, user: RegisteredUser, product: dict[str, Any],
) -> None:
    for body in ("not json", {"order_id": "seven"}, {"no": "order_id"}):
        rig.publish("events", "orders.created", body, jetstream=True)
    rig.publish("events", "inventory.reserved", [1, 2, 3], jetstream=True)
    settle(rig)  # all acknowledged (terminated): none comes back
    # and the saga still works after them
    order_id = place(api, user, (product["id"], 1)).json()["id"]
    assert wait_for_status(api, user.headers, order_id, "reserved")
