"""Connection strings: read the database name, swap it for another one."""

from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit

from psycopg.conninfo import conninfo_to_dict, make_conninfo

from stackrig.errors import IsolationError


def dbname_of(dsn: str) -> str:
    """The database a DSN (URL or ``key=value`` form) names; it must name one."""
    try:
        params = conninfo_to_dict(dsn)
    except Exception as exc:  # psycopg.ProgrammingError, with its own reason
        raise IsolationError(
            f"cannot parse the PostgreSQL DSN {dsn!r} (expected a URL such as "
            f"postgresql://user@127.0.0.1:5432/dbname or key=value pairs; found: {exc})",
            hint="pass the superuser DSN of the database to isolate",
        ) from exc
    name = params.get("dbname")
    if not name:
        raise IsolationError(
            f"the PostgreSQL DSN {dsn!r} names no database (expected a database name: the path of a URL or "
            "dbname=...; found none)",
            hint="add the database to isolate, e.g. postgresql://postgres@127.0.0.1:5432/app",
        )
    return str(name)


def with_dbname(dsn: str, dbname: str) -> str:
    """The same DSN, pointing at database ``dbname``; a URL stays a URL."""
    if dsn.startswith(("postgresql://", "postgres://")):
        parts = urlsplit(dsn)
        query = "&".join(p for p in parts.query.split("&") if p and not p.startswith("dbname="))
        return urlunsplit(parts._replace(path="/" + quote(dbname, safe=""), query=query))
    return make_conninfo(dsn, dbname=dbname)
