"""clone(): a database per test, copied from the baseline."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from stackrig.errors import IsolationError
from stackrig.isolation import NotInstalled, PgIsolation


def test_a_clone_is_an_independent_copy_of_the_baseline(snapshot: Any, make_db: Any) -> None:
    dsn = make_db()
    name = dsn.rsplit("/", 1)[1]
    with PgIsolation(dsn) as iso:
        with pytest.raises(NotInstalled, match="call install\\(\\) before clone"):
            iso.clone(name + "_c1")
        iso.install()
        baseline = snapshot(dsn)
        url = iso.clone(name + "_c1")
        assert url == dsn.rsplit("/", 1)[0] + "/" + name + "_c1"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DELETE FROM order_lines")
            conn.execute("ALTER TABLE customers ADD COLUMN x int")
        assert snapshot(dsn) == baseline  # the original did not move
        assert iso.reset().mode == "noop"
        again = iso.clone(name + "_c1")  # an existing clone of that name is replaced
        assert snapshot(again) == baseline
        iso.drop_clone(name + "_c1")
        iso.drop_clone(name + "_c1")  # absent is fine
        with psycopg.connect(dsn, autocommit=True) as conn:
            assert conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name + "_c1",)).fetchone() is None
        with pytest.raises(IsolationError, match="is the isolated database or its template"):
            iso.clone(name)
        with pytest.raises(IsolationError, match="refused"):
            iso.drop_clone(iso.template)
