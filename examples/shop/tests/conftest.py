"""Fixtures of the shop's suite, built on stackrig's session-scoped ``rig``.

The stack (PostgreSQL with the ``shop`` and ``inventory`` databases, Redis, NATS JetStream, S3 on
moto, the payment-gateway stub, the SMTP server, the Go shipping service, the Node.js inventory
service, the API, the notifications worker and the web page) is started once for the session, and
stackrig puts it back after every test: both databases to their baselines, Redis flushed, the
streams purged (their consumers kept), the bucket back to its objects, the ``payments`` stub back
to its mapping files with an empty journal, fault-proxy toxics removed, the ``smtp`` mailbox
emptied.  So each test starts from the same state, whatever ran before it: the suite passes in any
order (``-p randomly``) and with ``-n 2``, where each pytest-xdist worker has its own databases,
Redis index, NATS server, moto, apps, stub and SMTP server.  (The API's in-process state, its
payment circuit breaker, is not reset: tests that open it close it again.)

One thing is the suite's own: a saga runs on after the HTTP call that started it.  An order placed
at the end of a test is still being reserved by the inventory when the test returns — and would be
written *after* stackrig's reset, into the next test's baseline.  So after every test that used the
stack, :func:`settle` waits until the system is quiet (both outboxes empty, nothing pending or
unacknowledged on any durable consumer) before the reset runs.

``register`` and ``make_product`` still give users and products unique names (:func:`unique`,
:func:`unique_email`): not for isolation, but so that a test can register several users (e-mails
are unique) and a failure message or a service log tells its rows apart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import psycopg
import pytest
import redis
from _support import RegisteredUser, settle, unique, unique_email, until

from stackrig import Rig

# The clients belong to the rig (cached per service, closed with the session): these fixtures
# only give them short names.  They are per test, not per session, because the rig closes and
# remakes a service's clients when the service is stopped or started (test_outages.py restarts
# `api`): asking the rig again each test costs a dict lookup and never hands out a closed client.


@pytest.fixture
def api(rig: Rig) -> httpx.Client:
    """HTTP client of the API under test, ``base_url`` set."""
    client: httpx.Client = rig.http("api")
    return client


@pytest.fixture
def db(rig: Rig) -> psycopg.Connection[Any]:
    """Autocommit connection to the shop's database (the API's), to check what the API wrote."""
    conn: psycopg.Connection[Any] = rig.sql("db")
    return conn


@pytest.fixture
def inventory_db(rig: Rig) -> psycopg.Connection[Any]:
    """Autocommit connection to the inventory service's database (``databases.inventory``)."""
    conn: psycopg.Connection[Any] = rig.sql("db", "inventory")
    return conn


@pytest.fixture
def cache(rig: Rig) -> redis.Redis:
    """The Redis the API caches products in (``decode_responses=True``)."""
    client: redis.Redis = rig.redis("cache")
    return client


@pytest.fixture
def stock(inventory_db: psycopg.Connection[Any]) -> Callable[[int], tuple[int, int] | None]:
    """``stock(product_id)``: (available, reserved) in the inventory's database, None when unstocked."""

    def _stock(product_id: int) -> tuple[int, int] | None:
        row = inventory_db.execute("SELECT available, reserved FROM stock WHERE product_id = %s",
                                   (product_id,)).fetchone()
        return (int(row[0]), int(row[1])) if row else None

    return _stock


@pytest.fixture
def register(api: httpx.Client) -> Callable[..., RegisteredUser]:
    """Register a new user and log in; returns the user with a valid token."""

    def _register(password: str = "correct horse battery", name: str = "Test User") -> RegisteredUser:
        email = unique_email()
        created = api.post("/auth/register", json={"email": email, "password": password, "name": name})
        assert created.status_code == 201, created.text
        login = api.post("/auth/login", json={"email": email, "password": password})
        assert login.status_code == 200, login.text
        return RegisteredUser(created.json()["id"], email, password, name, login.json()["access_token"])

    return _register


@pytest.fixture
def user(register: Callable[..., RegisteredUser]) -> RegisteredUser:
    return register()


@pytest.fixture
def make_product(api: httpx.Client, user: RegisteredUser,
                 stock: Callable[[int], tuple[int, int] | None]) -> Callable[..., dict[str, Any]]:
    """Create a product through the API (as ``user``), and wait until the inventory has stocked it
    (``products.created``); keyword arguments override the defaults (``stock=10``)."""

    def _make(**fields: Any) -> dict[str, Any]:
        body = {"name": unique("product"), "description": "a test product", "price_cents": 1250, "stock": 10}
        body.update(fields)
        response = api.post("/products", json=body, headers=user.headers)
        assert response.status_code == 201, response.text
        product: dict[str, Any] = response.json()
        assert until(lambda: stock(product["id"])) == (body["stock"], 0), "the inventory never stocked it"
        return product

    return _make


@pytest.fixture
def product(make_product: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    return make_product()


@pytest.fixture
def stock_product(inventory_db: psycopg.Connection[Any]) -> Callable[[Any, int], Any]:
    """``stock_product(product, available)``: stock a product made by a factory (in the shop's
    database only) in the inventory's database — the two halves of one product, consistent."""

    def _stock(product: Any, available: int = 10) -> Any:
        inventory_db.execute("INSERT INTO stock (product_id, available) VALUES (%s, %s)", (product.id, available))
        return product

    return _stock


# -- the saga settles before stackrig resets ------------------------------------------------------


@pytest.fixture(autouse=True)
def _settled(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test that used the stack: let the events it started run their course, so the
    reset that follows leaves nothing behind for the next test."""
    rig: Rig | None = request.getfixturevalue("rig") if "rig" in request.fixturenames else None
    yield
    if rig is not None:
        settle(rig)
