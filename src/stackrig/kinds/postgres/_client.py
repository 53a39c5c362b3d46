"""What `rig` hands tests for a postgres service: psycopg, SQLAlchemy, a rolled-back transaction."""

from __future__ import annotations

from typing import Any

from ...errors import StackrigError
from ...services import Endpoint

__all__ = ["connect", "engine", "transaction", "sqlalchemy_url"]


def connect(endpoint: Endpoint) -> Any:
    """A psycopg 3 connection (autocommit) on the test's back door (never through the fault proxy)."""
    try:
        import psycopg
    except ImportError:
        raise StackrigError("rig.sql() needs psycopg 3", hint="pip install 'psycopg[binary]'") from None
    return psycopg.connect(endpoint.direct_url, autocommit=True)


def sqlalchemy_url(url: str) -> str:
    """`postgresql://...` -> `postgresql+psycopg://...` (psycopg 3 driver)."""
    scheme, sep, rest = url.partition("://")
    if scheme in ("postgresql", "postgres"):
        return f"postgresql+psycopg{sep}{rest}"
    return url


class _Engine:
    """A SQLAlchemy engine in the rig's client cache (`close()` disposes it)."""

    def __init__(self, url: str) -> None:
        try:
            from sqlalchemy import create_engine
        except ImportError:
            raise StackrigError("rig.engine() needs SQLAlchemy", hint="pip install sqlalchemy") from None
        self.engine = create_engine(sqlalchemy_url(url))

    def close(self) -> None:
        self.engine.dispose()


def engine(endpoint: Endpoint) -> Any:
    return _Engine(endpoint.direct_url)


def transaction(endpoint: Endpoint) -> Any:
    """A context manager: a psycopg connection in a transaction rolled back at the end."""
    from ...isolation import pg_transaction

    return pg_transaction(endpoint.direct_url)
