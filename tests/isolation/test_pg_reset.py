"""PgIsolation.reset() restores the baseline in place, against a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from stackrig.isolation import PgIsolation


@pytest.fixture
def dsn(make_db: Any) -> str:
    return str(make_db())


@pytest.fixture
def iso(dsn: str) -> Iterator[PgIsolation]:
    with PgIsolation(dsn, lock_timeout=2.0) as isolation:
        isolation.install()
        yield isolation


@pytest.fixture
def app(dsn: str, iso: PgIsolation) -> Iterator[psycopg.Connection[Any]]:
    """The app's pooled connection: another process's session that stays open across tests."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        yield conn


def test_inserts_updates_deletes_in_fk_tables_are_undone(snapshot: Any, dsn: str, iso: PgIsolation, app: Any) -> None:
    baseline = snapshot(dsn)
    app.execute("INSERT INTO customers (name) VALUES ('dan')")
    app.execute("INSERT INTO orders (customer_id, total) VALUES (4, 99)")
    app.execute("UPDATE orders SET total = total + 1 WHERE customer_id = 1")
    app.execute("DELETE FROM customers WHERE name = 'bob'")  # cascades to orders and order_lines
    app.execute("INSERT INTO order_lines VALUES (1, 'z', 9)")
    assert snapshot(dsn) != baseline

    report = iso.reset(test_id="tests/test_x.py::test_y")

    assert report.mode == "restore"
    assert set(report.tables) == {"public.customers", "public.orders", "public.order_lines"}
    assert snapshot(dsn) == baseline
    assert not iso.dirty and iso.last_error is None and iso.last_report == report


def test_sequences_give_the_baseline_ids_again(dsn: str, iso: PgIsolation, app: Any) -> None:
    def next_ids() -> tuple[int, int]:
        with app.transaction(force_rollback=True):  # the ids are drawn, the rows rolled back
            c = app.execute("INSERT INTO customers (name) VALUES ('tmp') RETURNING id").fetchone()[0]
            o = app.execute("INSERT INTO orders (customer_id, total) VALUES (1, 1) RETURNING id").fetchone()[0]
        return c, o

    at_baseline = next_ids()
    iso.reset()
    assert next_ids() == at_baseline  # a rolled-back insert's ids are given back too
    app.execute("INSERT INTO customers (name) SELECT 'n' || g FROM generate_series(1, 5) g")
    app.execute("SELECT nextval('audit_id_seq')")  # a bare nextval: no table written at all
    report = iso.reset()
    assert "public.audit_id_seq" in report.sequences
    assert next_ids() == at_baseline


def test_a_bare_nextval_is_seen(dsn: str, iso: PgIsolation, app: Any) -> None:
    app.execute("SELECT nextval('audit_id_seq')")
    report = iso.reset()
    assert report.mode == "restore" and report.tables == () and report.sequences == ("public.audit_id_seq",)
    assert app.execute("SELECT nextval('audit_id_seq')").fetchone() == (1,)


def test_the_apps_open_connection_sees_the_baseline_and_keeps_working(
    snapshot: Any, dsn: str, iso: PgIsolation
) -> None:
    baseline = snapshot(dsn)
    pool = psycopg.connect(dsn)  # not autocommit: like a pool's connection, transactions per request
    try:
        pool.execute("UPDATE customers SET name = 'ADA' WHERE name = 'ada'")
        pool.commit()
        with pool.transaction():
            pool.execute("DELETE FROM order_lines")
        pool.commit()
        iso.reset()
        assert snapshot(dsn) == baseline
        assert pool.execute("SELECT name FROM customers ORDER BY id").fetchall() == [("ada",), ("bob",), ("cyd",)]
        pool.commit()
        assert pool.info.transaction_status == psycopg.pq.TransactionStatus.IDLE  # same session, not killed
    finally:
        pool.close()


def test_a_test_that_changed_nothing_costs_no_restore(dsn: str, iso: PgIsolation, app: Any) -> None:
    def physical() -> list[tuple[Any, ...]]:
        # ctid/xmin change whenever a row is rewritten: proof of what the reset touched
        return list(app.execute(
            "SELECT 'c', ctid::text, xmin::text FROM customers UNION ALL "
            "SELECT 'o', ctid::text, xmin::text FROM orders UNION ALL "
            "SELECT 'l', ctid::text, xmin::text FROM order_lines ORDER BY 1, 2"
        ).fetchall())

    before = physical()
    app.execute("SELECT * FROM customers JOIN orders ON orders.customer_id = customers.id").fetchall()
    report = iso.reset()
    assert report.mode == "noop" and report.tables == () and report.sequences == ()
    assert physical() == before


def test_only_changed_tables_and_only_changed_rows_are_rewritten(dsn: str, iso: PgIsolation, app: Any) -> None:
    def rows(table: str) -> dict[str, str]:
        return dict(app.execute(f"SELECT id::text, ctid::text FROM {table}").fetchall())

    customers, orders = rows("customers"), rows("orders")
    app.execute("UPDATE customers SET name = 'bobby' WHERE id = 2")
    report = iso.reset()
    assert report.tables == ("public.customers",)
    assert rows("orders") == orders  # not touched at all
    after = rows("customers")
    assert after["1"] == customers["1"] and after["3"] == customers["3"]  # untouched rows stay in place
    assert after["2"] != customers["2"]  # the changed row was put back
    assert app.execute("SELECT name FROM customers WHERE id = 2").fetchone() == ("bob",)


def test_truncate_is_undone(snapshot: Any, dsn: str, iso: PgIsolation, app: Any) -> None:
    baseline = snapshot(dsn)
    app.execute("TRUNCATE customers RESTART IDENTITY CASCADE")  # also empties orders and order_lines
    app.execute("INSERT INTO customers (name) VALUES ('new')")
    iso.reset()
    assert snapshot(dsn) == baseline


def test_a_table_without_primary_key_gets_its_duplicate_rows_back(dsn: str, iso: PgIsolation, app: Any) -> None:
    app.execute("DELETE FROM order_lines WHERE ctid = (SELECT min(ctid) FROM order_lines WHERE sku = 'a')")
    assert app.execute("SELECT count(*) FROM order_lines WHERE sku = 'a'").fetchone() == (1,)
    iso.reset()
    assert app.execute("SELECT count(*) FROM order_lines WHERE sku = 'a'").fetchone() == (2,)


def test_a_value_equal_but_not_identical_is_restored(make_db: Any) -> None:
    dsn = make_db("CREATE TABLE prices (id int PRIMARY KEY, amount numeric); INSERT INTO prices VALUES (1, 1.0);")
    with PgIsolation(dsn) as iso:
        iso.install()
        app = psycopg.connect(dsn, autocommit=True)
        app.execute("UPDATE prices SET amount = 1.00")  # 1.00 = 1.0, but it shows (and is stored) differently
        assert app.execute("SELECT amount::text FROM prices").fetchone() == ("1.00",)
        iso.reset()
        assert app.execute("SELECT amount::text FROM prices").fetchone() == ("1.0",)
        app.close()


def test_writes_through_a_partitioned_parent_are_undone(snapshot: Any, make_db: Any) -> None:
    dsn = make_db(
        "CREATE TABLE events (id int, kind text) PARTITION BY LIST (kind);"
        "CREATE TABLE events_a PARTITION OF events FOR VALUES IN ('a');"
        "CREATE TABLE events_b PARTITION OF events FOR VALUES IN ('b');"
        "INSERT INTO events VALUES (1, 'a'), (2, 'b');"
    )
    with PgIsolation(dsn) as iso:
        iso.install()
        baseline = snapshot(dsn)
        with psycopg.connect(dsn, autocommit=True) as app:
            app.execute("INSERT INTO events VALUES (3, 'a'), (4, 'b')")
            app.execute("DELETE FROM events WHERE id = 1")
        report = iso.reset()
        assert {"public.events_a", "public.events_b"} <= set(report.tables)
        assert snapshot(dsn) == baseline


def test_an_unprivileged_app_role_is_tracked(snapshot: Any, make_db: Any, pg_server: Any) -> None:
    with psycopg.connect(pg_server.dsn(), autocommit=True) as admin:
        admin.execute("DROP ROLE IF EXISTS iso_app")
        admin.execute("CREATE ROLE iso_app LOGIN")
    dsn = make_db()
    try:
        with psycopg.connect(dsn, autocommit=True) as admin:  # part of the baseline, before install()
            admin.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO iso_app")
            admin.execute("GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO iso_app")
        with PgIsolation(dsn) as iso:
            iso.install()
            baseline = snapshot(dsn)
            with psycopg.connect(dsn.replace("postgres@", "iso_app@"), autocommit=True) as app:
                app.execute("INSERT INTO customers (name) VALUES ('eve')")  # the trigger needs no privilege
            assert iso.reset().tables == ("public.customers",)
            assert snapshot(dsn) == baseline
    finally:
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute("DROP OWNED BY iso_app")  # the role stays: this server lives for the session only
