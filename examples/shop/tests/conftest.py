"""Fixtures of the shop's suite, built on stackrig's session-scoped ``rig``.

The stack (PostgreSQL, Redis, the API) is shared by every test and not reset
between tests, so each test makes its own data with unique names
(:func:`unique`) and the suite passes in any order.
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
# these fixtures only give them short names.


@pytest.fixture(scope="session")
def api(rig: Rig) -> httpx.Client:
    """HTTP client of the API under test, ``base_url`` set."""
    client: httpx.Client = rig.http("api")
    return client


@pytest.fixture(scope="session")
def db(rig: Rig) -> psycopg.Connection[Any]:
    """Autocommit connection to the shop's database, to check what the API wrote."""
    conn: psycopg.Connection[Any] = rig.sql("db")
    return conn


@pytest.fixture(scope="session")
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
