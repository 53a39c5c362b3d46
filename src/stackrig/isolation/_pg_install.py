"""Build and run the per-database part of install(): snapshots, trackers, triggers, restore_rel()."""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from . import _pg_sql


@dataclass(frozen=True)
class _Table:
    oid: int
    kind: str  # 'r' plain (or partition), 'p' partitioned
    qualname: str  # quoted schema.table
    columns: tuple[str, ...]  # quoted insertable columns (no generated ones)
    primary_key: tuple[str, ...]  # quoted primary key columns, () if none

    @property
    def snapshot(self) -> str:
        return f"_stackrig.s_{self.oid}"

    @property
    def tracker(self) -> str:
        return f"_stackrig.t_{self.oid}"


def _members(tables: list[_Table], edges: list[tuple[int, int]]) -> dict[int, list[int]]:
    """For each table: the tables a statement on it may change (itself and all its descendants)."""
    children: dict[int, list[int]] = defaultdict(list)
    for parent, child in edges:
        children[parent].append(child)
    known = {t.oid for t in tables}
    result: dict[int, list[int]] = {}
    for table in tables:
        seen: set[int] = set()
        todo = [table.oid]
        while todo:
            oid = todo.pop()
            if oid not in seen:
                seen.add(oid)
                todo.extend(children.get(oid, ()))
        result[table.oid] = sorted(seen & known)
    return result


def _restore_statements(t: _Table) -> str:
    """Put ``t``'s baseline rows back.

    With a primary key: a diff, so only what the test changed is rewritten.
    Rows whose key or binary image (``record_image_eq``: 1.0 and 1.00 differ,
    as do 'a' and 'A' in a case-insensitive type) is not in the snapshot are
    deleted, then snapshot rows whose key is missing are inserted.  Without a
    primary key rows may repeat, so the table is emptied and refilled.
    """
    cols = ", ".join(t.columns)
    fill = f"INSERT INTO {t.qualname} ({cols}) OVERRIDING SYSTEM VALUE SELECT {{select}} FROM {t.snapshot} AS s"
    if not t.columns:
        return f"DELETE FROM ONLY {t.qualname};"
    if not t.primary_key:
        return f"DELETE FROM ONLY {t.qualname}; " + fill.format(select=cols) + ";"
    same_key = " AND ".join(f"s.{k} = t.{k}" for k in t.primary_key)
    s_row = "ROW(" + ", ".join(f"s.{c}" for c in t.columns) + ")"
    t_row = "ROW(" + ", ".join(f"t.{c}" for c in t.columns) + ")"
    return (
        f"DELETE FROM ONLY {t.qualname} AS t WHERE NOT EXISTS (SELECT 1 FROM {t.snapshot} AS s "
        f"WHERE {same_key} AND record_image_eq({s_row}, {t_row}));\n            "
        + fill.format(select=", ".join(f"s.{c}" for c in t.columns))
        + f" WHERE NOT EXISTS (SELECT 1 FROM ONLY {t.qualname} AS t WHERE {same_key});"
    )


def _restore_rel_function(tables: list[_Table]) -> str:
    """``restore_rel(rel)``: lock out writers, put the baseline rows back; one static branch
    per table, so that every plan is cached for the session."""
    branches = []
    for t in tables:
        lock = f"LOCK TABLE ONLY {t.qualname} IN EXCLUSIVE MODE;"
        if t.kind != "r":  # partitioned: no rows of its own, but its writers must be waited for
            branches.append(f"        WHEN {t.oid} THEN\n            {lock}\n")
            continue
        branches.append(f"        WHEN {t.oid} THEN\n            {lock}\n            {_restore_statements(t)}\n")
    body = (
        "    CASE rel\n" + "".join(branches) + "    END CASE;\n"
        if branches
        else "    RAISE EXCEPTION 'stackrig: no table is tracked (relation %)', rel;\n"
    )
    tag = "$r" + secrets.token_hex(6) + "$"
    return (
        "CREATE FUNCTION _stackrig.restore_rel(rel oid) RETURNS void\n"
        f"LANGUAGE plpgsql AS {tag}\nBEGIN\n{body}END\n{tag};"  # every name in it is schema-qualified
    )


def install_objects(conn: psycopg.Connection[Any]) -> tuple[int, int]:
    """Create everything in the current transaction; return (tables tracked, sequences saved)."""
    conn.execute(_pg_sql.BASE)
    tables = [
        _Table(int(o), k, q, tuple(c), tuple(pk)) for o, k, q, c, pk in conn.execute(_pg_sql.TABLES_QUERY).fetchall()
    ]
    edges = [(int(p), int(c)) for p, c in conn.execute(_pg_sql.INHERITS_QUERY).fetchall()]
    members = _members(tables, edges)
    for t in tables:
        if t.kind == "r":
            conn.execute(f"CREATE TABLE {t.snapshot} AS SELECT {', '.join(t.columns)} FROM ONLY {t.qualname}")
            conn.execute(f"ANALYZE {t.snapshot}")  # so the restore's anti-joins are planned for its size
        conn.execute(f"CREATE SEQUENCE {t.tracker}")
        conn.execute(
            f"CREATE TRIGGER _stackrig_mark BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON {t.qualname} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION _stackrig.mark('{t.tracker}')"
        )
        conn.execute(
            "INSERT INTO _stackrig.tracked (relid, tracker, members) VALUES (%s, %s::regclass, %s)",
            (t.oid, t.tracker, members[t.oid]),
        )
    sequences = conn.execute(_pg_sql.SEQUENCES_QUERY).fetchall()
    for oid, qualname in sequences:
        last_value, is_called = conn.execute(
            sql.SQL("SELECT last_value, is_called FROM {}").format(sql.SQL(qualname))
        ).fetchone() or (None, None)
        conn.execute(
            "INSERT INTO _stackrig.sequences (seq, last_value, is_called, called_value) "
            "VALUES (%s::oid::regclass, %s, %s, %s)",
            (oid, last_value, is_called, last_value if is_called else None),
        )
    conn.execute(_restore_rel_function(tables))
    conn.execute(_pg_sql.reset_function(has_descendants=bool(edges)))
    conn.execute(_pg_sql.EVENT_TRIGGERS)
    return len(tables), len(sequences)
