"""Fixtures of the shop's suite, built on stackrig's session-scoped ``rig``.

The stack (PostgreSQL, Redis, the payment-gateway stub, the SMTP server, the API)
is started once for the session, and stackrig puts it back after every test: the
database to its baseline (``seed.sql``), Redis flushed, the ``payments`` stub back
to its mapping files with an empty journal, fault-proxy toxics removed, the
``smtp`` mailbox emptied.  So each test starts from the same state, whatever ran
before it: the suite passes in any order (``-p randomly``) and with ``-n 2``, where
each pytest-xdist worker has its own database, Redis index, app, stub and SMTP
server.  (The app's in-process state, its payment circuit breaker, is not reset:
tests that open it close it again.)

``register`` and ``make_product`` still give users and products unique names
(:func:`unique`, :func:`unique_email`): not for isolation, but so that a test can
register several users (e-mails are unique) and a failure message or a service
log tells its rows apart.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import psycopg
import pytest
import redis
from _support import RegisteredUser, unique, unique_email

from stackrig import Rig

# The clients belong to the rig (cached per service, closed with the session):
# these fixtures only give them short names.  They are per test, not per session,
# because the rig closes and remakes a service's clients when the service is
# stopped or started (test_outages.py restarts `api`): asking the rig again each
# test costs a dict lookup and never hands out a closed client.


@pytest.fixture
def api(rig: Rig) -> httpx.Client:
    """HTTP client of the API under test, ``base_url`` set."""
    client: httpx.Client = rig.http("api")
    return client


@pytest.fixture
def db(rig: Rig) -> psycopg.Connection[Any]:
    """Autocommit connection to the shop's database, to check what the API wrote."""
    conn: psycopg.Connection[Any] = rig.sql("db")
    return conn


@pytest.fixture
def cache(rig: Rig) -> redis.Redis:
    """The Redis the API caches products in (``decode_responses=True``)."""
    client: redis.Redis = rig.redis("cache")
    return client


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
def make_product(api: httpx.Client, user: RegisteredUser) -> Callable[..., dict[str, Any]]:
    """Create a product through the API (as ``user``); keyword arguments override the defaults."""

    def _make(**fields: Any) -> dict[str, Any]:
        body = {"name": unique("product"), "description": "a test product", "price_cents": 1250, "stock": 10}
        body.update(fields)
        response = api.post("/products", json=body, headers=user.headers)
        assert response.status_code == 201, response.text
        product: dict[str, Any] = response.json()
        return product

    return _make


@pytest.fixture
def product(make_product: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    return make_product()
