"""Database-level operations, run from the maintenance database: templates, clones, drops."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from ._report import Session

_SESSIONS = """
SELECT pid, coalesce(application_name, ''), state, coalesce(query, ''), xact_start
  FROM pg_stat_activity
 WHERE datname = %s AND pid <> pg_backend_pid()
 ORDER BY pid
"""


@dataclass(frozen=True)
class DatabaseProps:
    """What ``CREATE DATABASE ... TEMPLATE`` does not copy and a recreated database must keep."""

    owner: str
    connection_limit: int
    grants: tuple[tuple[str | None, str, bool], ...] | None  # (grantee or None for PUBLIC, privilege, grantable)
    settings: tuple[tuple[str | None, str, str], ...]  # (role or None, name, value)


def sessions(conn: psycopg.Connection[Any], dbname: str) -> list[Session]:
    rows = conn.execute(_SESSIONS, (dbname,)).fetchall()
    return [Session(int(pid), app, state, query, start) for pid, app, state, query, start in rows]


def wait_gone(conn: psycopg.Connection[Any], pid: int, timeout: float = 10.0) -> None:
    """Wait (bounded) until backend ``pid`` has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if conn.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone() is None:
            return
        time.sleep(0.005)


def exists(conn: psycopg.Connection[Any], dbname: str) -> bool:
    return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone() is not None


def read_props(conn: psycopg.Connection[Any], dbname: str) -> DatabaseProps:
    row = conn.execute(
        "SELECT pg_get_userbyid(datdba), datconnlimit, datacl IS NULL FROM pg_database WHERE datname = %s",
        (dbname,),
    ).fetchone()
    assert row is not None, dbname
    owner, limit, default_acl = row
    grants: tuple[tuple[str | None, str, bool], ...] | None = None
    if not default_acl:
        grants = tuple(
            (grantee, privilege, bool(grantable))
            for grantee, privilege, grantable in conn.execute(
                "SELECT CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee) END, "
                "a.privilege_type, a.is_grantable "
                "FROM pg_database d, aclexplode(d.datacl) a WHERE d.datname = %s",
                (dbname,),
            ).fetchall()
        )
    settings = tuple(
        (role, *entry.split("=", 1))
        for role, config in conn.execute(
            "SELECT r.rolname, s.setconfig FROM pg_db_role_setting s "
            "JOIN pg_database d ON d.oid = s.setdatabase LEFT JOIN pg_roles r ON r.oid = s.setrole "
            "WHERE d.datname = %s",
            (dbname,),
        ).fetchall()
        for entry in config
    )
    return DatabaseProps(str(owner), int(limit), grants, settings)


def make_template(conn: psycopg.Connection[Any], source: str, template: str) -> None:
    """Copy ``source`` to ``template``, marked as a template nobody may connect to."""
    drop(conn, template)
    conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(template), sql.Identifier(source)))
    conn.execute(
        sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false").format(sql.Identifier(template))
    )


def create_from_template(conn: psycopg.Connection[Any], name: str, template: str, props: DatabaseProps) -> None:
    ident = sql.Identifier(name)
    conn.execute(
        sql.SQL("CREATE DATABASE {} TEMPLATE {} OWNER {} CONNECTION LIMIT {}").format(
            ident, sql.Identifier(template), sql.Identifier(props.owner), sql.Literal(props.connection_limit)
        )
    )
    if props.grants is not None:
        conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(ident))
        conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM {}").format(ident, sql.Identifier(props.owner)))
        for grantee, privilege, grantable in props.grants:
            conn.execute(
                sql.SQL("GRANT {} ON DATABASE {} TO {}{}").format(
                    sql.SQL(privilege),  # a privilege keyword from aclexplode(), e.g. CONNECT
                    ident,
                    sql.SQL("PUBLIC") if grantee is None else sql.Identifier(grantee),
                    sql.SQL(" WITH GRANT OPTION" if grantable else ""),
                )
            )
    for role, name_, value in props.settings:
        # set_config() parses the stored text exactly as it was stored (lists included);
        # FROM CURRENT then copies the parsed value: no quoting to get wrong.
        with conn.transaction():
            conn.execute("SELECT set_config(%s, %s, true)", (name_, value))
            target = (
                sql.SQL("ROLE {} IN DATABASE {}").format(sql.Identifier(role), ident)
                if role
                else sql.SQL("DATABASE {}").format(ident)
            )
            conn.execute(sql.SQL("ALTER {} SET {} FROM CURRENT").format(target, sql.Identifier(name_)))


def drop(conn: psycopg.Connection[Any], name: str) -> None:
    """Drop a database (template or not), terminating whoever is connected to it."""
    if not exists(conn, name):
        return
    ident = sql.Identifier(name)
    conn.execute(sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE false").format(ident))
    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))
