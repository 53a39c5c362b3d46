"""pytest-xdist: worker `gwN` gets database ``<db>_gwN``, cloned from the baseline database
(``CREATE DATABASE ... TEMPLATE``) on the one server the controller runs."""

from __future__ import annotations

import time

from ...errors import StackrigError
from ...services import Endpoint, Slice

__all__ = ["pg_slice"]


def pg_slice(endpoint: Endpoint, worker_id: str, index: int) -> Slice:
    import psycopg
    from psycopg import sql

    base = endpoint.attributes["database"]
    name = f"{base}_{worker_id}"
    direct = endpoint.direct_url
    admin = direct.rsplit("/", 1)[0] + "/postgres"
    deadline = time.monotonic() + 60
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        while True:
            try:
                conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name),
                                                                            sql.Identifier(base)))
                break
            except psycopg.errors.ObjectInUse:  # another worker is cloning the same template right now
                if time.monotonic() > deadline:
                    raise StackrigError(
                        f"service '{endpoint.name}': could not clone database '{base}' for worker {worker_id}: "
                        "it stayed in use by other sessions for 60 s",
                        hint="nothing may stay connected to the baseline database under pytest-xdist") from None
                time.sleep(0.05)
    return Slice(url=direct.rsplit("/", 1)[0] + "/" + name, attributes={"database": name})
