"""Per-test data isolation: put PostgreSQL and Redis back to their baseline after each test.

The app under test runs in another process and keeps its pooled connections
open across tests, so isolation works in place, server-side.  The *baseline*
is the state after the service's ``init`` and ``seed``.

PostgreSQL: :class:`PgIsolation`
================================

Install
-------
``install()`` runs once, on the baseline, as a superuser.  In a private schema
``_stackrig`` it creates, for every user table (plain, partitioned, unlogged;
every schema but the system ones): a copy of its rows (``s_<oid>``), a tracker
sequence (``t_<oid>``) and a statement-level ``BEFORE INSERT OR UPDATE OR
DELETE OR TRUNCATE`` trigger; it records every user sequence's ``last_value``
and ``is_called``; it adds an event trigger on ``ddl_command_end`` and
``sql_drop``; and it copies the database to a template ``<db>__stackrig_tpl``
(no connections allowed), which needs no other session on the database.

Change detection
----------------
Exact, and synchronous, so not the statistics views (updated asynchronously).
The trigger calls ``nextval()`` on the table's tracker, once per table per
transaction (a transaction-local setting remembers it was done), so its cost
does not depend on the number of rows.  Sequences are not transactional: the
mark is visible to ``reset()`` as soon as the statement starts, even while the
writer's transaction is still open, and a rolled-back write still counts (an
unneeded but harmless restore).  ``BEFORE`` rather than ``AFTER``: the mark
exists before the first row changes.  FK cascades and ``TRUNCATE ... CASCADE``
fire the child tables' triggers; a statement on a partitioned or inheritance
parent fires only the parent's, so its descendants are restored with it.
Sequences have no triggers: reset compares every user sequence with its
baseline (a bare ``nextval()`` is seen).  The event trigger marks the schema
as changed on any DDL outside ``_stackrig`` except on temporary objects.

Not tracked (documented limits): writes by sessions running with
``session_replication_role = replica`` (the triggers are ordinary so that
reset's own writes do not mark); ``setval(seq, v, false)`` on a sequence that
was never called at the baseline; other sessions' cached values of sequences
with ``CACHE`` > 1; large objects; foreign tables.

Reset
-----
``reset()`` is one round-trip, ``SELECT _stackrig.reset()``, on a superuser
session kept in ``session_replication_role = replica`` (FK triggers and the
mark triggers off; the setting is never flipped, because every change of it
flushes the session's plan cache, which costs more than a small restore).  In
one transaction:

1. schema marked: full restore (below);
2. no table marked and no sequence off its baseline: return ``noop`` -- no
   write, no lock beyond reading ~one sequence page per table and sequence;
3. for each marked table, in oid order: ``LOCK TABLE ... IN EXCLUSIVE MODE``
   (waits for writers still in a transaction, not for readers), then put the
   rows back.  With a primary key, a diff: delete the rows whose key or binary
   image (``record_image_eq``) is not in the snapshot, insert the snapshot rows
   whose key is missing -- only what the test changed is rewritten.  Without
   one: delete all, insert all.  The statements are static SQL in a function
   generated at install, so their plans are cached for the session;
4. ``setval()`` every sequence that differs from its baseline;
5. clear the marks of the restored tables (last: nothing that can fail follows).

Blocked reset.  Waiting longer than ``lock_timeout`` (default 5 s) for a lock
means the test left a transaction or a lock behind.  Reset then reads who holds
locks on the tables it must restore (``pg_locks``, ``pg_stat_activity``: pid,
state, since when, last query), terminates them (``pg_terminate_backend``),
finishes, and raises :class:`ResetBlocked` naming the test (``test_id``), the
pids and queries; ``restored`` tells whether the baseline is back.  Any other
failure raises :class:`ResetFailed`.  ``dirty`` is true while the database may
not be at its baseline (the next test must not run on it); ``last_error`` keeps
the last failure.

Schema changes.  A DDL during a test means a full restore: every session on
the database is ended and it is recreated from the template (``DROP DATABASE
... WITH (FORCE)``, ``CREATE DATABASE ... TEMPLATE``; owner, connection limit,
grants and per-database settings are carried over).  The app's pooled
connections are reset: a pool that checks connections on checkout (pre-ping)
reconnects; otherwise the app's next query on each old connection fails once.
Never silently left behind.

Clones and transactions
-----------------------
``clone(name)`` creates a database from the template and returns its DSN;
``drop_clone(name)`` drops it (isolation mode "clone": a database per test).
For code running in the test's own process, :func:`pg_transaction` (psycopg)
and :func:`sqlalchemy_session` (SQLAlchemy, ``join_transaction_mode=
"create_savepoint"``) run the test in one transaction rolled back at the end;
commits in the code under test become savepoints.

Cost model
----------
- each write statement of the app: one trigger call; the first per table per
  transaction also does one ``nextval()`` (the benchmark measures it);
- a test that changed nothing: one round-trip reading 1 + T + S sequence pages
  (T tracked tables, S sequences), no write -- ~0.1-0.5 ms;
- a test that changed k tables: the no-change cost, plus per table a lock and a
  hash anti-join over the table and its snapshot (reads O(table)) and writes
  O(changed rows) (O(table) without a primary key); plus one ``setval()`` per
  changed sequence;
- a schema change: a database copy from the template (~100 ms and up, grows
  with the database) and the app's reconnects;
- install: one copy of every table, one template database.

Redis: :class:`RedisIsolation`
==============================
One database per worker (``db=N``) or the keys under a prefix (servers without
database indexes).  ``reset()`` reads ``INFO persistence`` (one round-trip):
``rdb_changes_since_last_save`` is the server's own write counter, bumped
synchronously by every write, expiry and eviction, so an unchanged value means
nothing was written.  It is server-wide (a write elsewhere costs an unneeded
flush) and a save resets it, so a changed save time/count or a running BGSAVE
counts as a change.  Otherwise one Lua script deletes the database's keys
(``FLUSHDB``) or the prefix's keys (``SCAN`` + ``UNLINK``), restores the
baseline keys (``DUMP``/``RESTORE``) and reads the counter, atomically.
"""

from ._errors import IsolationError, NotInstalled, ResetBlocked, ResetFailed
from ._pg import PgIsolation
from ._redis import RedisIsolation
from ._report import RedisResetReport, ResetMode, ResetReport, Session
from ._sqlalchemy import sqlalchemy_connection, sqlalchemy_session
from ._transaction import SavepointConnection, pg_transaction

__all__ = [
    "IsolationError",
    "NotInstalled",
    "PgIsolation",
    "RedisIsolation",
    "RedisResetReport",
    "ResetBlocked",
    "ResetFailed",
    "ResetMode",
    "ResetReport",
    "SavepointConnection",
    "Session",
    "pg_transaction",
    "sqlalchemy_connection",
    "sqlalchemy_session",
]
