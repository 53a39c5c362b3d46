"""Transaction flavour with SQLAlchemy: a Session joined to a transaction rolled back at the end.

The documented pattern ("Joining a Session into an External Transaction"): one
connection, an outer transaction begun on it, and a Session bound to it with
``join_transaction_mode="create_savepoint"``, so ``session.commit()`` and
``session.rollback()`` in the code under test only end savepoints.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine
    from sqlalchemy.orm import Session


@contextmanager
def sqlalchemy_connection(engine: Engine) -> Iterator[Connection]:
    """A connection inside an outer transaction that is rolled back when the block ends.

    Bind your own ``sessionmaker(bind=conn, join_transaction_mode="create_savepoint")``
    to it when the code under test makes its sessions from a factory.
    """
    with engine.connect() as connection:
        outer = connection.begin()
        try:
            yield connection
        finally:
            if outer.is_active:
                outer.rollback()


@contextmanager
def sqlalchemy_session(engine: Engine, **session_kwargs: Any) -> Iterator[Session]:
    """A Session whose commits are savepoints of a transaction rolled back at the end."""
    from sqlalchemy.orm import Session

    with sqlalchemy_connection(engine) as connection:
        session = Session(bind=connection, join_transaction_mode="create_savepoint", **session_kwargs)
        try:
            yield session
        finally:
            session.close()
