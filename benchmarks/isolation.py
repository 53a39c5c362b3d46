"""Benchmark: per-test cost of bringing PostgreSQL back to its baseline.

    python benchmarks/isolation.py [--rounds 15] [--iterations 30]

Starts a private PostgreSQL (as the ``postgres`` user when run as root; data
in /dev/shm; 127.0.0.1, free port; fsync=off as in tests), builds a 20-table
schema (foreign keys, indexes, ~1 000 seed rows), then measures per test, as
medians over rounds:

- stackrig ``PgIsolation.reset()`` after a test that changed 2 tables, and after
  one that changed none;
- pytest-postgresql, for real: a pytest run of its ``postgresql_noproc`` +
  ``postgresql`` fixtures (a database per test created from a template,
  connected, dropped; cost = fixture setup + teardown), against a server started
  the way its ``postgresql_proc`` starts one (``-F``, data directory in /tmp),
  and, for comparison, against the tuned /dev/shm server stackrig is measured on.
  (Its process fixture refuses root and the interpreter lives under /root, so
  the server is started here as the postgres user, with its options.)
- TRUNCATE of all 20 tables + reseed of all, hand-written, one round-trip;
- the floor: DELETE of exactly the 2 changed tables + reseed of those + their
  sequences, hand-written, one round-trip, FK checks off (TRUNCATE of exactly
  those 2 is refused by PostgreSQL: other tables reference them, even with
  session_replication_role = replica).

Also measured: a hand-written diff restore of the 2 tables (what stackrig does
for tables with a primary key, without its bookkeeping), and what the
change-tracking triggers add to the test's own writes.
Prints a table; ``--write`` also rewrites the numbers section of isolation.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import pwd
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from stackrig.isolation import PgIsolation

HERE = Path(__file__).resolve().parent
N_TABLES = 20
ROWS_PER_TABLE = 50  # 20 x 50 = 1 000 seed rows


# -- server ---------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


TUNED = ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]  # as stackrig's tests
PYTEST_POSTGRESQL_STYLE = ["-F"]  # what pytest-postgresql's postgresql_proc passes (pg_ctl -o "-F ..."), data in /tmp


@contextmanager
def postgres_server(parent: str, options: list[str]) -> Iterator[int]:
    bindir = next(p for p in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True))
    datadir = Path(tempfile.mkdtemp(prefix="stackrig-bench-pg-", dir=parent))
    root = os.geteuid() == 0  # PostgreSQL refuses to run as root: run it as postgres
    user, group = ("postgres", "postgres") if root else (None, None)
    groups: list[str] | None = [] if root else None
    if root:
        pw = pwd.getpwnam("postgres")
        os.chown(datadir, pw.pw_uid, pw.pw_gid)
    port = _free_port()
    proc = None
    try:
        subprocess.run(
            [str(bindir / "initdb"), "-D", str(datadir), "-U", "postgres", "-A", "trust", "-E", "UTF8",
             "--locale=C", "--no-sync"],
            check=True, capture_output=True, user=user, group=group, extra_groups=groups,
        )
        proc = subprocess.Popen(
            [str(bindir / "postgres"), "-D", str(datadir), "-p", str(port), "-k", str(datadir),
             "-c", "listen_addresses=127.0.0.1", *options],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
            user=user, group=group, extra_groups=groups,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", connect_timeout=2).close()
                break
            except psycopg.OperationalError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield port
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=60)
        shutil.rmtree(datadir, ignore_errors=True)


# -- schema -----------------------------------------------------------------


def schema_sql() -> str:
    parts = []
    for i in range(N_TABLES):
        fk = f", parent_id int REFERENCES t{i - 1}(id)" if i % 4 != 0 else ""
        parts.append(
            f"CREATE TABLE t{i} (id serial PRIMARY KEY, name text NOT NULL, amount numeric(10,2), "
            f"created timestamptz NOT NULL DEFAULT now(){fk});\n"
            f"CREATE INDEX t{i}_name ON t{i} (name);\n"
            f"INSERT INTO t{i} (name, amount{', parent_id' if fk else ''}) "
            f"SELECT 'row ' || g, g * 1.5{', 1 + g % ' + str(ROWS_PER_TABLE) if fk else ''} "
            f"FROM generate_series(1, {ROWS_PER_TABLE}) g;\n"
        )
    return "".join(parts)


CHANGED = ("t5", "t9")  # the 2 tables the "changing" test writes (t5 references t4, t9 references t8)


def test_changing(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    conn.execute("INSERT INTO t5 (name, amount, parent_id) VALUES ('new', 1, 1)")
    conn.execute("UPDATE t9 SET amount = amount + 1 WHERE id <= 10")


def test_reading(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    conn.execute("SELECT count(*) FROM t5").fetchone()


# -- measurement --------------------------------------------------------------


Method = tuple[Callable[[], object], Callable[[], object]]  # (untimed "test", timed clean-up)


def measure(rounds: int, iterations: int, methods: dict[str, Method]) -> dict[str, float]:
    """Median over rounds of each method's median time per iteration (ms).

    Methods are interleaved iteration by iteration, so that the load of a shared
    machine weighs on all of them alike; medians, not means, so that a stall
    caused by someone else's job does not decide the result.
    """
    per_round: dict[str, list[float]] = {name: [] for name in methods}
    for _ in range(rounds):
        samples: dict[str, list[float]] = {name: [] for name in methods}
        for _ in range(iterations):
            for name, (before, action) in methods.items():
                before()
                t0 = time.perf_counter()
                action()
                samples[name].append((time.perf_counter() - t0) * 1000)
        for name, values in samples.items():
            per_round[name].append(statistics.median(values))
    return {name: statistics.median(values) for name, values in per_round.items()}


PYTEST_CONFTEST = """
import json, os, pytest
from pathlib import Path
from pytest_postgresql import factories

postgresql_noproc = factories.postgresql_noproc(
    host="127.0.0.1", port={port}, user="postgres", dbname="ppg", load=[Path({schema!r})])
postgresql = factories.postgresql("postgresql_noproc")

_durations = {{}}

def pytest_runtest_logreport(report):
    if report.when in ("setup", "teardown"):
        _durations.setdefault(report.nodeid, 0.0)
        _durations[report.nodeid] += report.duration

def pytest_sessionfinish(session):
    with open({out!r}, "w") as f:
        json.dump(_durations, f)
"""

PYTEST_TESTS = """
import pytest

@pytest.mark.parametrize("i", range({n}))
def test_changes_two_tables(postgresql, i):
    postgresql.execute("INSERT INTO t5 (name, amount, parent_id) VALUES ('new', 1, 1)")
    postgresql.execute("UPDATE t9 SET amount = amount + 1 WHERE id <= 10")
    postgresql.commit()
"""


def pytest_postgresql_ms(port: int, n: int) -> tuple[float, list[float]]:
    with tempfile.TemporaryDirectory(prefix="stackrig-bench-ppg-") as tmp:
        schema = Path(tmp) / "schema.sql"
        schema.write_text(schema_sql())
        out = Path(tmp) / "durations.json"
        (Path(tmp) / "conftest.py").write_text(
            PYTEST_CONFTEST.format(port=port, schema=str(schema), out=str(out))
        )
        (Path(tmp) / "test_ppg.py").write_text(PYTEST_TESTS.format(n=n))
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
             "-p", "no:xdist", "-p", "no:stackrig", "--rootdir", tmp, tmp],
            capture_output=True, cwd=tmp, text=True, check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"pytest-postgresql run failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}")
        durations = [v * 1000 for v in json.loads(out.read_text()).values()]
    # the first test also pays for the session fixture (template load): leave it out
    steady = durations[1:]
    return statistics.median(steady), steady


HAND_WRITTEN = ("floor", "truncate_all", "diff")  # one database each: their tables age alike


def run(rounds: int, iterations: int) -> dict[str, float]:
    with postgres_server("/dev/shm", TUNED) as port:
        base = f"postgresql://postgres@127.0.0.1:{port}/"
        with psycopg.connect(base + "postgres", autocommit=True) as admin:
            for db in ("tracked", *HAND_WRITTEN):
                admin.execute(f"CREATE DATABASE {db}")
        for db in ("tracked", *HAND_WRITTEN):
            with psycopg.connect(base + db, autocommit=True) as c:
                c.execute(schema_sql())
        for db in HAND_WRITTEN:
            with psycopg.connect(base + db, autocommit=True) as c:
                # copies of the seed for the hand-written reseeds (what stackrig snapshots too)
                c.execute("CREATE SCHEMA seed")
                for i in range(N_TABLES):
                    c.execute(f"CREATE TABLE seed.t{i} AS SELECT * FROM t{i}")
                    c.execute(f"ANALYZE seed.t{i}")
        iso = PgIsolation(base + "tracked")
        iso.install()

        # "the app": one connection per database, open throughout; "hand": the hand-written clean-ups
        app = {db: psycopg.connect(base + db, autocommit=True) for db in ("tracked", *HAND_WRITTEN)}
        hand = {db: psycopg.connect(base + db, autocommit=True) for db in HAND_WRITTEN}

        def reseed(tables: list[str]) -> str:
            body = "".join(f"INSERT INTO {t} SELECT * FROM seed.{t};" for t in tables)
            seqs = "".join(f"SELECT setval('{t}_id_seq', {ROWS_PER_TABLE});" for t in tables)
            return body + seqs

        all_tables = [f"t{i}" for i in range(N_TABLES)]
        cleanup = {
            "truncate_all": (
                "BEGIN; SET LOCAL session_replication_role = replica; TRUNCATE " + ", ".join(all_tables) + ";"
                + reseed(all_tables) + "COMMIT;"
            ),
            "floor": (
                "BEGIN; SET LOCAL session_replication_role = replica; "
                + "".join(f"DELETE FROM {t};" for t in CHANGED) + reseed(list(CHANGED)) + "COMMIT;"
            ),
        }
        # what stackrig does for a table with a primary key, written by hand: a diff
        cols = ["id", "name", "amount", "created", "parent_id"]
        s_row = "ROW(" + ", ".join(f"s.{c}" for c in cols) + ")"
        t_row = "ROW(" + ", ".join(f"t.{c}" for c in cols) + ")"
        cleanup["diff"] = "BEGIN; SET LOCAL session_replication_role = replica; " + "".join(
            f"DELETE FROM {t} t WHERE NOT EXISTS (SELECT 1 FROM seed.{t} s WHERE s.id = t.id "
            f"AND record_image_eq({s_row}, {t_row}));"
            f"INSERT INTO {t} SELECT s.* FROM seed.{t} s WHERE NOT EXISTS (SELECT 1 FROM {t} t WHERE t.id = s.id);"
            for t in CHANGED
        ) + "".join(f"SELECT setval('{t}_id_seq', {ROWS_PER_TABLE});" for t in CHANGED) + "COMMIT;"
        # sanity: every clean-up really brings the baseline back
        for db in HAND_WRITTEN:
            before = hand[db].execute("SELECT (SELECT array_agg(t5 ORDER BY id)::text FROM t5), "
                                      "(SELECT array_agg(t9 ORDER BY id)::text FROM t9)").fetchone()
            test_changing(app[db])
            hand[db].execute(cleanup[db])
            after = hand[db].execute("SELECT (SELECT array_agg(t5 ORDER BY id)::text FROM t5), "
                                     "(SELECT array_agg(t9 ORDER BY id)::text FROM t9)").fetchone()
            assert before == after, db
        test_changing(app["tracked"])
        report = iso.reset()
        assert report.tables == ("public.t5", "public.t9"), report
        assert iso.reset().mode == "noop"

        def hand_cleanup(db: str) -> Method:
            return (lambda: test_changing(app[db]), lambda: hand[db].execute(cleanup[db]))

        results = measure(rounds, iterations, {
            "stackrig_changed_2": (lambda: test_changing(app["tracked"]), iso.reset),
            "stackrig_changed_none": (lambda: test_reading(app["tracked"]), iso.reset),
            "floor_delete": hand_cleanup("floor"),
            "truncate_all_reseed": hand_cleanup("truncate_all"),
            "diff_by_hand": hand_cleanup("diff"),
            "test_body_with_triggers": (iso.reset, lambda: test_changing(app["tracked"])),
            "test_body_without_triggers": (
                lambda: hand["floor"].execute(cleanup["floor"]), lambda: test_changing(app["floor"])
            ),
        })
        results["floor"] = results["floor_delete"]
        for conn in (*app.values(), *hand.values()):
            conn.close()
        iso.close()

        results["pytest_postgresql_same_server"], _ = pytest_postgresql_ms(port, n=max(10, rounds * 2))
    with postgres_server("/tmp", PYTEST_POSTGRESQL_STYLE) as port:
        results["pytest_postgresql"], _ = pytest_postgresql_ms(port, n=max(10, rounds * 2))
    return results


def table(r: dict[str, float]) -> str:
    ppg, floor = r["pytest_postgresql"], r["floor"]
    rows = [
        ("stackrig reset, test changed 2 tables", r["stackrig_changed_2"]),
        ("stackrig reset, test changed nothing", r["stackrig_changed_none"]),
        ("pytest-postgresql (database per test; its server settings, data in /tmp)", ppg),
        ("pytest-postgresql on the tuned /dev/shm server", r["pytest_postgresql_same_server"]),
        ("TRUNCATE all 20 tables + reseed all", r["truncate_all_reseed"]),
        ("floor: DELETE 2 changed tables + reseed", r["floor_delete"]),
        ("(for reference) hand-written diff of the 2 changed tables", r["diff_by_hand"]),
    ]
    out = ["| per test | ms (median) | x pytest-postgresql | x floor |", "|---|---:|---:|---:|"]
    for name, ms in rows:
        out.append(f"| {name} | {ms:.3f} | {ms / ppg:.4f} | {ms / floor:.2f} |")
    out.append("")
    out.append(
        f"Targets: reset <= 0.02 x pytest-postgresql: {r['stackrig_changed_2'] / ppg:.4f} "
        f"({'met' if r['stackrig_changed_2'] <= 0.02 * ppg else 'MISSED'}); "
        f"reset <= 1.2 x floor: {r['stackrig_changed_2'] / floor:.2f} "
        f"({'met' if r['stackrig_changed_2'] <= 1.2 * floor else 'MISSED'}); "
        f"no-change reset <= 1 ms: {r['stackrig_changed_none']:.3f} ms "
        f"({'met' if r['stackrig_changed_none'] <= 1.0 else 'MISSED'})."
    )
    out.append(
        f"Test body (INSERT 1 row in t5 + UPDATE 10 rows in t9, 2 round-trips): "
        f"{r['test_body_without_triggers']:.3f} ms without tracking triggers, "
        f"{r['test_body_with_triggers']:.3f} ms with them."
    )
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--write", action="store_true", help="rewrite the results section of isolation.md")
    args = parser.parse_args()
    started = time.monotonic()
    results = run(args.rounds, args.iterations)
    text = table(results)
    load = os.getloadavg()
    machine = (
        f"{platform.node() or 'host'}: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"PostgreSQL 15 (stackrig and hand-written: fsync=off, synchronous_commit=off, full_page_writes=off, "
        f"data in /dev/shm), load average {load[0]:.2f} at the end; "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {args.rounds} rounds x {args.iterations} iterations; "
        f"run took {time.monotonic() - started:.0f} s"
    )
    print(text)
    print()
    print(machine)
    if args.write:
        md = HERE / "isolation.md"
        marker_start, marker_end = "<!-- results:start -->", "<!-- results:end -->"
        doc = md.read_text()
        head, rest = doc.split(marker_start, 1)
        _, tail = rest.split(marker_end, 1)
        block = textwrap.dedent(f"""
            {machine}

            """) + text + "\n"
        md.write_text(head + marker_start + "\n" + block + marker_end + tail)


if __name__ == "__main__":
    main()
