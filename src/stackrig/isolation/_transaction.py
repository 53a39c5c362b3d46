"""Transaction flavour with psycopg: the test runs in one transaction that is rolled back.

The connection handed to the test is a :class:`SavepointConnection`: its
``commit()`` releases a savepoint and opens the next one, its ``rollback()``
rolls back to it, and ``with conn.transaction():`` blocks nest as savepoints
(psycopg does that by itself inside a transaction).  So code under test may
commit; nothing outlives the test.  Only for code that runs in the test's own
process on this very connection: an app in another process needs
:class:`PgIsolation`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import pq

_SAVEPOINT = "stackrig_test"


class SavepointConnection(psycopg.Connection[Any]):
    """A psycopg connection whose commit/rollback stay inside the test's transaction."""

    def commit(self) -> None:
        if self.pgconn.transaction_status == pq.TransactionStatus.INERROR:
            self.execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")  # like COMMIT of a failed transaction
        else:
            self.execute(f"RELEASE SAVEPOINT {_SAVEPOINT}; SAVEPOINT {_SAVEPOINT}")

    def rollback(self) -> None:
        self.execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")


@contextmanager
def pg_transaction(conninfo: str, **kwargs: Any) -> Iterator[SavepointConnection]:
    """Yield a connection inside a transaction that is rolled back when the block ends."""
    conn = SavepointConnection.connect(conninfo, autocommit=False, **kwargs)
    try:
        conn.execute(f"SAVEPOINT {_SAVEPOINT}")  # opens the outer transaction, then the savepoint
        yield conn
    finally:
        if not conn.closed:
            conn.pgconn.exec_(b"ROLLBACK")  # the real one (our rollback() is the savepoint's)
            conn.close()
