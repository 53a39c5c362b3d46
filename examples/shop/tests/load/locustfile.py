"""Browsing and checkout, as Locust users: run by ``tests/test_load.py`` through ``rig.load(...)``
at a small scale, or by hand: ``stackrig load tests/load/locustfile.py --service api --users 20
--duration 30s --threshold 'http_req_duration{name:browse}: p(95)<200'``.

Shoppers browse the catalogue (the list, then a product: Redis serves it after the first read).
Buyers register, then place an order, wait for the inventory to reserve it, and pay; an order the
inventory rejects (the stock ran out under load) is not a failure of the system.
"""

from __future__ import annotations

import random
import time
import uuid

from locust import HttpUser, between, task


class Shopper(HttpUser):
    weight = 3
    wait_time = between(0.05, 0.2)

    @task(3)
    def browse(self) -> None:
        self.client.get("/products?limit=50", name="browse")

    @task(2)
    def product(self) -> None:
        self.client.get(f"/products/{random.randint(1, 3)}", name="product")


class Buyer(HttpUser):
    weight = 1
    wait_time = between(0.1, 0.3)

    def on_start(self) -> None:
        email = f"load-{uuid.uuid4().hex[:12]}@example.com"
        self.client.post("/auth/register", json={"email": email, "password": "load-pass-123", "name": "Load"},
                         name="register")
        token = self.client.post("/auth/login", json={"email": email, "password": "load-pass-123"},
                                 name="login").json()["access_token"]
        self.headers = {"Authorization": f"Bearer {token}"}

    @task
    def checkout(self) -> None:
        placed = self.client.post("/orders", json={"items": [{"product_id": random.choice((1, 3)), "quantity": 1}]},
                                  headers=self.headers, name="checkout")
        if placed.status_code != 201:
            return
        order_id = placed.json()["id"]
        deadline = time.monotonic() + 5
        status = "pending"
        while status == "pending" and time.monotonic() < deadline:
            time.sleep(0.02)
            status = self.client.get(f"/orders/{order_id}", headers=self.headers, name="order").json()["status"]
        if status == "reserved":
            self.client.post(f"/orders/{order_id}/pay", headers=self.headers, name="pay")
