"""Helpers shared by the shop's tests (plain functions and types, no fixtures)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
import pytest

if TYPE_CHECKING:
    from stackrig import Rig

T = TypeVar("T")

# Where stackrig.toml's streams and durable consumers are: what the saga's events go through.
STREAMS = ("SHOP", "INVENTORY")
CONSUMERS = (("SHOP", "inventory"), ("SHOP", "notifications-paid"), ("SHOP", "notifications-cancelled"),
             ("INVENTORY", "api"))


def unique(prefix: str = "t") -> str:
    """A name no other row made in this test has (the data itself is reset after each test)."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def unique_email() -> str:
    return f"{unique('user')}@example.com"


@dataclass(frozen=True)
class RegisteredUser:
    id: int
    email: str
    password: str
    name: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def assert_error(response: httpx.Response, status: int, *words: str) -> str:
    """The response is ``status`` with the shop's error body, whose message contains ``words``."""
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body.get("error"), str) and body["error"], body
    for word in words:
        assert word in body["error"], body
    return str(body["error"])


def until(check: Callable[[], T], timeout: float = 15.0, interval: float = 0.02) -> T:
    """Poll `check` until it returns something true, and return that (or the last falsy value at
    the deadline): a bound on waiting for what other processes do, not a speed assertion."""
    end = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > end:
            return result
        time.sleep(interval)


def place(api: httpx.Client, user: RegisteredUser, *lines: tuple[int, int], **extra: Any) -> httpx.Response:
    """POST /orders with `lines` of (product_id, quantity)."""
    items = [{"product_id": product_id, "quantity": quantity} for product_id, quantity in lines]
    return api.post("/orders", json={"items": items, **extra}, headers=user.headers)


def wait_for_status(api: httpx.Client, headers: dict[str, str], order_id: int, *statuses: str,
                    timeout: float = 15.0) -> dict[str, Any]:
    """The order once its status is one of `statuses` (the saga runs in other processes)."""
    seen: list[str] = []

    def check() -> dict[str, Any] | None:
        order: dict[str, Any] = api.get(f"/orders/{order_id}", headers=headers).json()
        if not seen or seen[-1] != order.get("status"):
            seen.append(str(order.get("status")))
        return order if order.get("status") in statuses else None

    order = until(check, timeout)
    assert order is not None, f"order {order_id} never reached {' or '.join(statuses)}; its statuses: {seen}"
    return order


def png(size: int = 64) -> bytes:
    """Bytes that start like a PNG (the API checks the signature, not the picture)."""
    return b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * (size // 256) + b"\0" * (size % 256)


def pending_work(rig: Rig) -> dict[str, int]:
    """What the system still has to do: events in the outboxes, events not yet delivered to or
    acknowledged by a durable consumer."""
    work = {
        "shop outbox": int(rig.sql("db").execute("SELECT count(*) FROM outbox").fetchone()[0]),  # type: ignore[index]
        "inventory outbox": int(rig.sql("db", "inventory").execute(  # type: ignore[index]
            "SELECT count(*) FROM outbox").fetchone()[0]),
    }
    js = rig.client("events", "jetstream")
    for stream, durable in CONSUMERS:
        info = js.consumer_info(stream, durable)
        work[f"{durable} pending"] = int(info["num_pending"])
        work[f"{durable} unacknowledged"] = int(info["num_ack_pending"])
    return {k: v for k, v in work.items() if v}


def settle(rig: Rig, timeout: float = 30.0) -> None:
    """Wait until nothing is left to do (twice in a row: a consumer may be between an ack and its
    outbox's publish); fail, saying what is stuck, after `timeout`."""
    deadline = time.monotonic() + timeout
    quiet = 0
    while True:
        work = pending_work(rig)
        quiet = 0 if work else quiet + 1
        if quiet == 2:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"the saga did not settle within {timeout:g} s: {work}", pytrace=False)
        time.sleep(0.01 if quiet else 0.02)
