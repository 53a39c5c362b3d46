"""The PostgreSQL connection pool.

Connections are autocommit: a single statement commits on its own, and
multi-statement work uses ``async with conn.transaction()`` explicitly, so a
response is never sent before its data is committed.  Every connection is
checked when it is lent, so connections broken by a database restart are
replaced transparently.
"""

from __future__ import annotations

from typing import TypeAlias

from psycopg import AsyncConnection
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool

from shop.config import Settings

__all__ = ["APPLICATION_NAME", "Conn", "Pool", "open_pool"]

APPLICATION_NAME = "shop"

Conn: TypeAlias = AsyncConnection[DictRow]
Pool: TypeAlias = AsyncConnectionPool[Conn]


async def open_pool(settings: Settings) -> Pool:
    """Open the pool without waiting for the database: /health reports whether it is reachable."""
    pool: Pool = AsyncConnectionPool(
        settings.database_url,
        connection_class=AsyncConnection[DictRow],
        # application_name lets operators (and tests) find the app's sessions in pg_stat_activity.
        kwargs={"autocommit": True, "row_factory": dict_row, "application_name": APPLICATION_NAME},
        min_size=1,
        max_size=settings.db_pool_max,
        timeout=settings.db_pool_timeout_s,
        # Give up a failing background reconnection quickly; the next request
        # starts a fresh attempt, so recovery after an outage is prompt.
        reconnect_timeout=5.0,
        check=AsyncConnectionPool.check_connection,
        name="shop",
        open=False,
    )
    await pool.open(wait=False)
    return pool
