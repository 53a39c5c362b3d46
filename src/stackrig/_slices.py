"""A pytest-xdist worker's slice of the shared servers.

The controller runs each server once; worker `gwN` gets database
``<db>_gwN`` cloned from the baseline database (PostgreSQL ``CREATE DATABASE
... TEMPLATE``) and Redis database index ``N + 1``.
"""

from __future__ import annotations

import time

from ._record import RunRecord, ServiceInfo
from .errors import StackrigError

__all__ = ["SHARED_KINDS", "make_slices", "worker_index"]

SHARED_KINDS = ("postgres", "redis")


def worker_index(worker_id: str) -> int:
    """`gw3` -> 3."""
    digits = "".join(ch for ch in worker_id if ch.isdigit())
    return int(digits) if digits else 0


def _pg_slice(info: ServiceInfo, worker_id: str) -> str:
    import psycopg
    from psycopg import sql

    base = info.attributes["database"]
    name = f"{base}_{worker_id}"
    direct = info.attributes.get("direct_url", info.url)
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
                        f"service '{info.name}': could not clone database '{base}' for worker {worker_id}: "
                        "it stayed in use by other sessions for 60 s",
                        hint="nothing may stay connected to the baseline database under pytest-xdist") from None
                time.sleep(0.05)
    return direct.rsplit("/", 1)[0] + "/" + name


def make_slices(record: RunRecord, worker_id: str) -> dict[str, tuple[ServiceInfo, str]]:
    """For each shared server of `record`: (its record, the URL of this worker's slice)."""
    slices: dict[str, tuple[ServiceInfo, str]] = {}
    index = worker_index(worker_id) + 1
    for info in record.services:
        if info.kind == "postgres":
            slices[info.name] = (info, _pg_slice(info, worker_id))
        elif info.kind == "redis":
            direct = info.attributes.get("direct_url", info.url)
            slices[info.name] = (info, direct.rsplit("/", 1)[0] + f"/{index}")
    return slices
