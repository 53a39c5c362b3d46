"""What goes wrong, and what the caller is told: blocked resets, failed resets, misuse."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from stackrig.errors import IsolationError, StackrigError
from stackrig.isolation import NotInstalled, PgIsolation, ResetBlocked, ResetFailed

TEST_ID = "tests/test_orders.py::test_leaves_a_transaction_open"


def test_an_open_transaction_blocks_reset_is_named_killed_and_the_reset_finished(
    snapshot: Any, make_db: Any
) -> None:
    dsn = make_db()
    with PgIsolation(dsn, lock_timeout=0.5) as iso:
        iso.install()
        baseline = snapshot(dsn)
        leaker = psycopg.connect(dsn)  # the test forgets to commit
        leaker.execute("INSERT INTO customers (name) VALUES ('half-done')")
        pid = leaker.info.backend_pid

        with pytest.raises(ResetBlocked) as caught:
            iso.reset(test_id=TEST_ID)

        err = caught.value
        text = str(err)
        assert TEST_ID in text
        assert f"pid {pid}" in text
        assert "INSERT INTO customers (name) VALUES ('half-done')" in text
        assert "idle in transaction" in text
        assert "RowExclusiveLock on public.customers" in text
        assert "0.5s (lock_timeout)" in text
        assert "the next test starts clean" in text
        assert "\n  fix: " in text
        assert isinstance(err, IsolationError) and isinstance(err, TimeoutError)
        assert err.restored and err.test_id == TEST_ID and [b.pid for b in err.blockers] == [pid]
        assert not iso.dirty and iso.last_error is err  # clean, but the culprit is on record
        with pytest.raises(psycopg.OperationalError):
            leaker.execute("SELECT 1")  # terminated
        leaker.close()
        assert snapshot(dsn) == baseline
        assert iso.reset().mode == "noop"  # the next test starts clean
        assert iso.last_error is None


def test_a_reset_that_cannot_restore_raises_and_marks_the_database_dirty(make_db: Any) -> None:
    dsn = make_db()
    with PgIsolation(dsn) as iso:
        iso.install()
        with psycopg.connect(dsn, autocommit=True) as conn:
            oid = conn.execute("SELECT 'customers'::regclass::oid").fetchall()[0][0]
            conn.execute(f"DROP TABLE _stackrig.s_{oid}")  # lose the snapshot (not counted as a schema change)
            conn.execute("INSERT INTO customers (name) VALUES ('dan')")
        with pytest.raises(ResetFailed) as caught:
            iso.reset(test_id=TEST_ID)
        text = str(caught.value)
        assert f"reset after test {TEST_ID} failed" in text
        assert "NOT at its baseline" in text
        assert "UndefinedTable" in text and "fix: " in text
        assert iso.dirty and iso.last_error is caught.value


def test_reset_before_install_says_so(make_db: Any) -> None:
    with PgIsolation(make_db()) as iso, pytest.raises(NotInstalled) as caught:
        iso.reset()
    text = str(caught.value)
    assert "no isolation objects" in text and "call install()" in text
    assert iso.dirty


def test_a_non_superuser_is_refused_with_the_reason(make_db: Any, pg_server: Any) -> None:
    with psycopg.connect(pg_server.dsn(), autocommit=True) as admin:
        admin.execute("DROP ROLE IF EXISTS iso_plain")
        admin.execute("CREATE ROLE iso_plain LOGIN")
    dsn = make_db().replace("postgres@", "iso_plain@")
    with pytest.raises(NotInstalled) as caught:
        PgIsolation(dsn).install()
    assert "role 'iso_plain' is not a superuser" in str(caught.value)
    assert "fix: pass the DSN of a superuser" in str(caught.value)


def test_install_refuses_while_others_are_connected_unless_told(make_db: Any) -> None:
    dsn = make_db()
    other = psycopg.connect(dsn, application_name="the-app")
    try:
        with PgIsolation(dsn) as iso:
            with pytest.raises(NotInstalled) as caught:
                iso.install()
            text = str(caught.value)
            assert f"pid {other.info.backend_pid} application 'the-app'" in text
            assert "terminate_sessions=True" in text
            iso.install(terminate_sessions=True)
            assert iso.reset().mode == "noop"
    finally:
        other.close()


def test_bad_arguments_are_explained() -> None:
    with pytest.raises(IsolationError, match="names no database"):
        PgIsolation("host=127.0.0.1 user=postgres")
    with pytest.raises(IsolationError, match="lock_timeout must be a positive number"):
        PgIsolation("postgresql://postgres@127.0.0.1/app", lock_timeout=0)
    with pytest.raises(IsolationError, match="longer than PostgreSQL's 63 bytes"):
        PgIsolation("postgresql://postgres@127.0.0.1/" + "d" * 60)
    with pytest.raises(IsolationError, match="cannot connect to database 'app'"):
        PgIsolation("postgresql://postgres@127.0.0.1:1/app").reset()
    assert issubclass(ResetFailed, StackrigError)
