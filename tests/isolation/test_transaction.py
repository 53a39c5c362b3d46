"""Transaction flavours: everything the test (and code that commits) did is rolled back."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from stackrig.isolation import SavepointConnection, pg_transaction, sqlalchemy_connection, sqlalchemy_session


def _names(dsn: str) -> list[str]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return [r[0] for r in conn.execute("SELECT name FROM customers ORDER BY id").fetchall()]


def test_psycopg_flavour_rolls_back_even_what_was_committed(make_db: Any) -> None:
    dsn = make_db()
    with pg_transaction(dsn) as conn:
        assert isinstance(conn, SavepointConnection)
        conn.execute("INSERT INTO customers (name) VALUES ('dan')")
        conn.commit()  # code under test commits: a savepoint is released, nothing more
        with conn.transaction():  # a nested block is a savepoint too
            conn.execute("INSERT INTO customers (name) VALUES ('eve')")
        conn.execute("INSERT INTO customers (name) VALUES ('fay')")
        conn.rollback()  # back to the last "commit": eve and fay are gone
        assert [r[0] for r in conn.execute("SELECT name FROM customers ORDER BY id")] == ["ada", "bob", "cyd", "dan"]
        assert _names(dsn) == ["ada", "bob", "cyd"]  # nobody else sees any of it
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("INSERT INTO customers (name) VALUES ('ada')")
        conn.commit()  # commit after an error rolls back, as PostgreSQL would
        conn.execute("INSERT INTO customers (name) VALUES ('gus')")  # and the connection goes on
    assert _names(dsn) == ["ada", "bob", "cyd"]


def test_sqlalchemy_flavour_rolls_back_session_commits(make_db: Any) -> None:
    sqlalchemy = pytest.importorskip("sqlalchemy")
    from sqlalchemy.orm import Session, sessionmaker

    dsn = make_db()
    engine = sqlalchemy.create_engine(dsn.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with sqlalchemy_session(engine) as session:
            session.execute(sqlalchemy.text("INSERT INTO customers (name) VALUES ('dan')"))
            session.commit()
            session.execute(sqlalchemy.text("INSERT INTO customers (name) VALUES ('eve')"))
            session.rollback()
            names = session.execute(sqlalchemy.text("SELECT name FROM customers ORDER BY id")).scalars().all()
            assert names == ["ada", "bob", "cyd", "dan"]
            assert _names(dsn) == ["ada", "bob", "cyd"]
        assert _names(dsn) == ["ada", "bob", "cyd"]

        with sqlalchemy_connection(engine) as connection:  # for code that makes its own sessions
            factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
            with factory() as s1:
                s1.execute(sqlalchemy.text("DELETE FROM order_lines"))
                s1.commit()
            with Session(bind=connection, join_transaction_mode="create_savepoint") as s2:
                assert s2.execute(sqlalchemy.text("SELECT count(*) FROM order_lines")).scalar() == 0
        with psycopg.connect(dsn) as conn:
            assert conn.execute("SELECT count(*) FROM order_lines").fetchone() == (3,)
    finally:
        engine.dispose()
