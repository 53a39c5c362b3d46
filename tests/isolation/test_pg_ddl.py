"""Schema changes during a test: the database is recreated from its template."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from stackrig.isolation import PgIsolation


def test_add_column_and_create_table_bring_a_full_restore(snapshot: Any, make_db: Any) -> None:
    dsn = make_db()
    with PgIsolation(dsn) as iso:
        iso.install()
        baseline = snapshot(dsn)
        app = psycopg.connect(dsn, autocommit=True)
        app.execute("ALTER TABLE customers ADD COLUMN email text")
        app.execute("CREATE TABLE extra (x int)")
        app.execute("UPDATE customers SET email = 'x'")

        report = iso.reset(test_id="tests/test_m.py::test_migrates")

        assert report.mode == "full"
        assert app.info.backend_pid in {s.pid for s in report.terminated}
        assert snapshot(dsn) == baseline  # columns included: no email, no table extra
        with pytest.raises(psycopg.OperationalError):  # the app's pooled connection was ended...
            app.execute("SELECT 1")
        app.close()
        with psycopg.connect(dsn, autocommit=True) as fresh:  # ...and a new one works
            fresh.execute("INSERT INTO customers (name) VALUES ('dan')")
        assert iso.reset().mode == "restore"  # tracking works in the recreated database
        assert snapshot(dsn) == baseline


def test_drop_table_is_a_schema_change(snapshot: Any, make_db: Any) -> None:
    dsn = make_db()
    with PgIsolation(dsn) as iso:
        iso.install()
        baseline = snapshot(dsn)
        with psycopg.connect(dsn, autocommit=True) as app:
            app.execute("DROP TABLE audit")
        assert iso.reset().mode == "full"
        assert snapshot(dsn) == baseline


def test_temporary_objects_are_not_schema_changes(make_db: Any) -> None:
    dsn = make_db()
    with PgIsolation(dsn) as iso:
        iso.install()
        with psycopg.connect(dsn, autocommit=True) as app:
            app.execute("CREATE TEMP TABLE scratch (x int)")
            app.execute("CREATE INDEX ON scratch (x)")
            app.execute("DROP TABLE scratch")
        assert iso.reset().mode == "noop"


def test_a_recreated_database_keeps_owner_settings_and_grants(make_db: Any, pg_server: Any) -> None:
    with psycopg.connect(pg_server.dsn(), autocommit=True) as admin:
        admin.execute("DROP ROLE IF EXISTS iso_owner")
        admin.execute("CREATE ROLE iso_owner LOGIN")
    dsn = make_db()
    name = dsn.rsplit("/", 1)[1]
    with psycopg.connect(pg_server.dsn(), autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" OWNER TO iso_owner')
        admin.execute(f'ALTER DATABASE "{name}" SET search_path = public, "$user"')
        admin.execute(f'ALTER DATABASE "{name}" SET application_name = \'my app\'')
        admin.execute(f'REVOKE ALL ON DATABASE "{name}" FROM PUBLIC')
        admin.execute(f'GRANT CONNECT ON DATABASE "{name}" TO iso_owner')

    def props() -> tuple[Any, ...]:
        with psycopg.connect(pg_server.dsn(), autocommit=True) as admin:
            return (
                admin.execute("SELECT pg_get_userbyid(datdba), datacl::text FROM pg_database WHERE datname = %s",
                              (name,)).fetchone(),
                admin.execute("SELECT s.setconfig FROM pg_db_role_setting s JOIN pg_database d "
                              "ON d.oid = s.setdatabase WHERE d.datname = %s", (name,)).fetchall(),
            )

    before = props()
    with PgIsolation(dsn) as iso:
        iso.install()
        with psycopg.connect(dsn, autocommit=True) as app:
            app.execute("CREATE TABLE extra (x int)")
        assert iso.reset().mode == "full"
    assert props() == before
    with psycopg.connect(dsn, autocommit=True) as conn:
        assert conn.execute("SHOW search_path").fetchone() == ('public, "$user"',)
    with psycopg.connect(dsn.replace("postgres@", "iso_owner@"), autocommit=True) as conn:
        conn.execute("SELECT 1")  # may still connect
