"""pytest-xdist: worker `gwN` gets database ``<db>_gwN``, cloned from the baseline database
(``CREATE DATABASE ... TEMPLATE``) on the one server the controller runs."""

from __future__ import annotations

import time

from ...errors import StackrigError
from ...services import Endpoint, Slice

__all__ = ["pg_slice"]


def _clone(conn: object, endpoint: Endpoint, base: str, name: str, worker_id: str) -> None:
    import psycopg
    from psycopg import sql

    assert isinstance(conn, psycopg.Connection)
    deadline = time.monotonic() + 60
    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    while True:
        try:
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(base)))
            return
        except psycopg.errors.ObjectInUse:  # another worker is cloning the same template right now
            if time.monotonic() > deadline:
                raise StackrigError(
                    f"service '{endpoint.name}': could not clone database '{base}' for worker {worker_id}: "
                    "it stayed in use by other sessions for 60 s",
                    hint="nothing may stay connected to the baseline database under pytest-xdist") from None
            time.sleep(0.05)


def pg_slice(endpoint: Endpoint, worker_id: str, index: int) -> Slice:
    """Every database of the server (the main one and `databases.*`) cloned for the worker."""
    import psycopg

    base = endpoint.attributes["database"]
    direct = endpoint.direct_url
    server = direct.rsplit("/", 1)[0]
    extra = [key.split(".", 1)[1] for key in endpoint.attributes if key.startswith("direct_url.")]
    attributes = {"database": f"{base}_{worker_id}"}
    with psycopg.connect(server + "/postgres", autocommit=True) as conn:
        for db in [base, *extra]:
            name = f"{db}_{worker_id}"
            _clone(conn, endpoint, db, name, worker_id)
            if db != base:
                for attr in ("url", "direct_url"):
                    attributes[f"{attr}.{db}"] = endpoint.attributes[f"{attr}.{db}"].rsplit("/", 1)[0] + "/" + name
    return Slice(url=server + "/" + attributes["database"], attributes=attributes)
