"""The app survives dropped database connections and a database outage.

They break the app's connections to the database, so they do not run when the
suite is distributed (pytest-xdist).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest
from _support import assert_error
from psycopg import sql

from stackrig import Rig

APP_SESSIONS = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'shop'"
DROP_APP_SESSIONS = (
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
    " WHERE application_name = 'shop' AND pid <> pg_backend_pid()"
)

# These tests break the app's database connections, which would fail requests
# that other tests make at the same moment: not when the suite runs distributed.
disruptive = pytest.mark.skipif(
    bool(os.environ.get("PYTEST_XDIST_WORKER")), reason="disrupts the tests running in parallel"
)


def wait_for_health(api: httpx.Client, status: int, deadline_s: float = 60.0) -> httpx.Response:
    """Poll /health until it answers ``status`` (generous deadline: the machine may be loaded)."""
    deadline = time.monotonic() + deadline_s
    while True:
        response = api.get("/health")
        if response.status_code == status or time.monotonic() > deadline:
            return response
        time.sleep(0.1)


@disruptive
def test_connections_dropped_by_the_database_are_replaced(
    api: httpx.Client, db: psycopg.Connection[Any], product: dict[str, Any]
) -> None:
    assert api.get("/health").status_code == 200
    dropped = db.execute(DROP_APP_SESSIONS).fetchall()
    assert dropped, "the app holds no pooled connection to drop"
    # No request fails: the pool checks each connection before lending it.
    assert api.get("/health").status_code == 200
    listed = api.get("/products", params={"limit": 1, "offset": 0})
    assert listed.status_code == 200, listed.text


@contextmanager
def database_outage(rig: Rig) -> Iterator[None]:
    """The shop's database refuses new connections and drops the app's, until the block ends."""
    url = urlsplit(rig["db"].url)
    name = sql.Identifier(url.path.lstrip("/"))
    # A database cannot be closed from a session on itself: work from the maintenance database.
    with psycopg.connect(url._replace(path="/postgres").geturl(), autocommit=True) as admin:
        admin.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false").format(name))
        try:
            admin.execute(DROP_APP_SESSIONS)
            yield
        finally:
            admin.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS true").format(name))


@disruptive
def test_database_outage_is_503_and_the_app_recovers(
    rig: Rig, api: httpx.Client, db: psycopg.Connection[Any]
) -> None:
    with database_outage(rig):
        response = api.get("/health")
        assert response.status_code == 503, response.text
        assert response.json() == {"error": "Service temporarily unavailable"}
        # Every route, not only /health.
        assert_error(api.get(f"/products/{2**62}"), 503, "Service temporarily unavailable")
        assert db.execute(APP_SESSIONS).fetchone() == (0,)

    response = wait_for_health(api, 200)
    assert response.json() == {"status": "ok"}, response.text
    assert api.get(f"/products/{2**62}").status_code == 404
