"""PgIsolation: bring one PostgreSQL database back to its baseline after each test, in place."""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any, Self

import psycopg
from psycopg import errors as pg_errors, sql

from stackrig.errors import IsolationError

from . import _pg_admin, _pg_sql
from ._dsn import dbname_of, with_dbname
from ._errors import NotInstalled, ResetBlocked, ResetFailed
from ._pg_install import install_objects
from ._report import ResetReport, Session

APPLICATION_NAME = "stackrig-isolation"
_MAX_DBNAME = 63


class PgIsolation:
    """Per-test isolation of one PostgreSQL database, server-side and in place.

    ``dsn`` is a superuser DSN of the database to isolate.  Call :meth:`install`
    once the baseline (init + seed) is built, then :meth:`reset` after every
    test.  Other processes (the app's connection pool) may stay connected.

    State for a test runner: :attr:`dirty` is true when the database may not be
    at its baseline (a reset failed; run no test on it), :attr:`last_error` is
    the error of the last failed reset, :attr:`last_report` what the last
    successful one did.

    The baseline is what :meth:`install` saw: if it changes later (a migration
    outside a test), call :meth:`install` again, or the next reset will take the
    schema back to the old template.  One instance per database and process;
    not thread-safe.
    """

    def __init__(
        self,
        dsn: str,
        *,
        lock_timeout: float = 5.0,
        maintenance_db: str = "postgres",
        template: str | None = None,
    ) -> None:
        if lock_timeout <= 0:
            raise IsolationError(
                f"lock_timeout must be a positive number of seconds (found {lock_timeout!r})",
                hint="pass e.g. lock_timeout=5.0",
            )
        self.dsn = dsn
        self.database = dbname_of(dsn)
        self.template = template or f"{self.database}__stackrig_tpl"
        if len(self.template.encode()) > _MAX_DBNAME:
            raise IsolationError(
                f"template database name '{self.template}' is longer than PostgreSQL's {_MAX_DBNAME} bytes "
                f"(derived from database '{self.database}')",
                hint="pass a shorter template=... name",
            )
        self.lock_timeout = lock_timeout
        self.maintenance_db = maintenance_db
        self.dirty = False
        self.last_error: IsolationError | None = None
        self.last_report: ResetReport | None = None
        self._conn: psycopg.Connection[Any] | None = None
        self._props: _pg_admin.DatabaseProps | None = None

    # -- connections -------------------------------------------------------

    def _connect(self, dbname: str) -> psycopg.Connection[Any]:
        try:
            return psycopg.connect(
                with_dbname(self.dsn, dbname), autocommit=True, application_name=APPLICATION_NAME,
                connect_timeout=30,
            )
        except psycopg.OperationalError as exc:
            raise IsolationError(
                f"cannot connect to database '{dbname}' (expected a PostgreSQL server at the DSN given to "
                f"PgIsolation; found: {str(exc).strip()})",
                hint="check that the server runs and that the DSN names a superuser",
            ) from exc

    def _db(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = conn = self._connect(self.database)
            row = conn.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
            if not row or not row[1]:
                self.close()
                raise NotInstalled(
                    f"database '{self.database}': isolation needs a superuser (expected: triggers, an event "
                    f"trigger and session_replication_role; found: role '{row[0] if row else '?'}' is not a "
                    "superuser)",
                    database=self.database,
                    hint="pass the DSN of a superuser such as postgres to PgIsolation",
                )
            self._conn.execute(
                sql.SQL("SET lock_timeout = {}").format(sql.Literal(f"{int(self.lock_timeout * 1000)}ms"))
            )
            # reset() rewrites tables with FK triggers off; set once for the session, because
            # every change of this setting flushes the session's plan cache (see _pg_sql.RESET).
            self._conn.execute("SET session_replication_role = replica")
        return self._conn

    def _admin(self) -> psycopg.Connection[Any]:
        return self._connect(self.maintenance_db)

    def close(self) -> None:
        """Close the connection reset() keeps open (install state stays in the database)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- install -----------------------------------------------------------

    def install(self, *, terminate_sessions: bool = False) -> None:
        """Snapshot the current state as the baseline and install change tracking.

        Also copies the database to a template (for full restores and clones),
        which needs every other session off the database: if there are any,
        this raises unless ``terminate_sessions`` is true.
        """
        conn = self._db()
        try:
            with conn.transaction():
                conn.execute("DROP SCHEMA IF EXISTS _stackrig CASCADE")
                install_objects(conn)
        except psycopg.Error as exc:
            raise NotInstalled(
                f"database '{self.database}': install() failed (expected: snapshots and triggers created on "
                f"every user table; found: {type(exc).__name__}: {str(exc).strip()})",
                database=self.database,
                hint="install() must run once the baseline is loaded and before the app connects",
            ) from exc
        own_pid = conn.info.backend_pid
        self.close()
        with self._admin() as admin:
            _pg_admin.wait_gone(admin, own_pid)  # a closed session's backend exits asynchronously
            others = _pg_admin.sessions(admin, self.database)
            deadline = time.monotonic() + 2.0  # the seed loader's sessions may still be exiting
            while others and not terminate_sessions and time.monotonic() < deadline:
                time.sleep(0.02)
                others = _pg_admin.sessions(admin, self.database)
            if others and not terminate_sessions:
                listing = "\n".join(f"    - {s.describe()}" for s in others)
                raise NotInstalled(
                    f"database '{self.database}': install() copies the database to template "
                    f"'{self.template}', which needs no other session on it (found {len(others)}):\n{listing}",
                    database=self.database,
                    hint="call install() before the app connects, or pass terminate_sessions=True",
                )
            if others:
                admin.execute(
                    "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()",
                    (self.database,),
                )
            self._props = _pg_admin.read_props(admin, self.database)
            try:
                _pg_admin.make_template(admin, self.database, self.template)
            except psycopg.Error as exc:
                raise NotInstalled(
                    f"database '{self.database}': could not create template '{self.template}' "
                    f"(found: {str(exc).strip()})",
                    database=self.database,
                    hint="make sure no session connects to the database while install() runs",
                ) from exc
        self.dirty = False
        self.last_error = None

    def uninstall(self) -> None:
        """Remove triggers, snapshots and the template; the data is left as it is."""
        conn = self._db()
        conn.execute("DROP SCHEMA IF EXISTS _stackrig CASCADE")
        self.close()
        with self._admin() as admin:
            _pg_admin.drop(admin, self.template)

    # -- reset -------------------------------------------------------------

    def reset(self, *, test_id: str | None = None) -> ResetReport:
        """Bring the database back to its baseline; cheap when the test changed nothing.

        Raises :class:`ResetBlocked` when other sessions held locks past
        ``lock_timeout`` (they are terminated and the reset finished: check
        ``.restored``/:attr:`dirty`), :class:`ResetFailed` when the baseline
        could not be restored, :class:`NotInstalled` before :meth:`install`.
        """
        try:
            report = self._reset_retrying_connection(test_id)
        except pg_errors.LockNotAvailable:
            return self._break_locks(test_id)
        except IsolationError as exc:
            self._failed(exc)
            raise
        except psycopg.Error as exc:
            self._failed(
                err := ResetFailed(
                    database=self.database, test_id=test_id, cause=f"{type(exc).__name__}: {str(exc).strip()}"
                )
            )
            raise err from exc
        self._succeeded(report)
        return report

    def _failed(self, error: IsolationError) -> None:
        self.dirty = True
        self.last_error = error

    def _succeeded(self, report: ResetReport) -> None:
        self.dirty = False
        self.last_error = None
        self.last_report = report

    def _reset_retrying_connection(self, test_id: str | None) -> ResetReport:
        try:
            return self._reset_once(test_id)
        except pg_errors.DeadlockDetected:
            # An app transaction took the same tables in another order; the server broke
            # the tie against us.  It has gone on now: once more.
            return self._reset_once(test_id)
        except psycopg.OperationalError:
            # Our own session was killed (a test terminated backends, the server restarted): once more.
            if self._conn is not None and not self._conn.broken:
                raise
            self.close()
            return self._reset_once(test_id)

    def _reset_once(self, test_id: str | None) -> ResetReport:
        conn = self._db()
        try:
            row = conn.execute("SELECT _stackrig.reset()", prepare=True).fetchone()
        except (pg_errors.UndefinedFunction, pg_errors.InvalidSchemaName) as exc:
            raise NotInstalled(
                f"database '{self.database}': no isolation objects (expected schema _stackrig with reset(), "
                f"created by install(); found: {str(exc).strip()})",
                database=self.database,
                hint="call install() once the baseline is loaded, before the first reset()",
            ) from exc
        assert row is not None
        result: dict[str, Any] = row[0]
        if result["mode"] == "full":
            return self._full_restore(test_id)
        return ResetReport(
            mode=result["mode"], tables=tuple(result.get("tables", ())), sequences=tuple(result.get("sequences", ()))
        )

    def _break_locks(self, test_id: str | None) -> ResetReport:
        """After a lock timeout: name the blockers, terminate them, finish the reset, raise."""
        try:
            conn = self._db()
            pending = conn.execute(_pg_sql.PENDING_RELATIONS).fetchone()
            relations = list(pending[0]) if pending else []
            rows = conn.execute(_pg_sql.BLOCKERS, (relations,)).fetchall()
            blockers = [
                Session(int(pid), app, state, query, start, tuple(sorted(locks)))
                for pid, app, state, query, start, locks in rows
            ]
            for blocker in blockers:
                conn.execute("SELECT pg_terminate_backend(%s, 5000)", (blocker.pid,))
        except psycopg.Error as exc:
            failed = ResetFailed(
                database=self.database, test_id=test_id,
                cause=f"a lock wait timed out and looking up the blockers failed: {type(exc).__name__}: {exc}",
            )
            self._failed(failed)
            raise failed from exc
        try:
            report = self._reset_once(test_id)
        except (psycopg.Error, IsolationError) as exc:
            error = ResetBlocked(
                database=self.database, test_id=test_id, lock_timeout=self.lock_timeout,
                blockers=blockers, restored=False,
            )
            self._failed(error)
            raise error from exc
        self._succeeded(report)
        error = ResetBlocked(
            database=self.database, test_id=test_id, lock_timeout=self.lock_timeout,
            blockers=blockers, restored=True,
        )
        self.last_error = error
        raise error

    def _full_restore(self, test_id: str | None) -> ResetReport:
        """The schema changed: recreate the database from its template (every session is ended)."""
        self.close()
        with self._admin() as admin:
            if not _pg_admin.exists(admin, self.template):
                raise NotInstalled(
                    f"database '{self.database}': the schema changed during {test_id or 'the last test'}, and "
                    f"its template '{self.template}' is missing (expected: created by install())",
                    database=self.database,
                    hint="call install() again",
                )
            props = self._props or _pg_admin.read_props(admin, self.database)
            ended = _pg_admin.sessions(admin, self.database)
            try:
                _pg_admin.drop(admin, self.database)
            except psycopg.Error as exc:
                raise ResetFailed(
                    database=self.database, test_id=test_id,
                    cause=f"the schema changed and DROP DATABASE ... WITH (FORCE) failed: {str(exc).strip()}",
                ) from exc
            try:
                _pg_admin.create_from_template(admin, self.database, self.template, props)
            except psycopg.Error as exc:
                raise ResetFailed(
                    database=self.database, test_id=test_id,
                    cause=f"the database was dropped and could not be recreated from '{self.template}': "
                    f"{str(exc).strip()}",
                ) from exc
        self._props = props
        return ResetReport(mode="full", terminated=tuple(ended))

    # -- clones ------------------------------------------------------------

    def clone(self, name: str) -> str:
        """Create database ``name`` as a copy of the baseline; return its DSN (same form as ``dsn``)."""
        if name in (self.database, self.template):
            raise IsolationError(
                f"clone name '{name}' is the isolated database or its template (expected another name)",
                hint="use a per-test name such as app_test_42",
            )
        with self._admin() as admin:
            if not _pg_admin.exists(admin, self.template):
                raise NotInstalled(
                    f"database '{self.database}': cannot clone, template '{self.template}' is missing "
                    "(expected: created by install())",
                    database=self.database,
                    hint="call install() before clone()",
                )
            props = self._props or _pg_admin.read_props(admin, self.database)
            _pg_admin.drop(admin, name)
            _pg_admin.create_from_template(admin, name, self.template, props)
        return with_dbname(self.dsn, name)

    def drop_clone(self, name: str) -> None:
        """Drop a database made by :meth:`clone` (terminating its sessions); absent is fine."""
        if name in (self.database, self.template, self.maintenance_db):
            raise IsolationError(
                f"drop_clone('{name}') refused: that is the isolated database, its template or the "
                "maintenance database, not a clone",
                hint="pass the name given to clone()",
            )
        with self._admin() as admin:
            _pg_admin.drop(admin, name)
