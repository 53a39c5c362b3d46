"""The fixtures: `rig`, `rig_transaction`, `rig_session`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ..errors import StackrigError
from ..rig import Rig
from ._session import session_of

__all__ = ["rig", "rig_session", "rig_transaction"]


@pytest.fixture(scope="session")
def rig(request: pytest.FixtureRequest) -> Iterator[Rig]:
    """The running stack: ``rig["db"].url``, ``rig.env``, ``rig.http("api")``, ``rig.sql("db")``,
    ``rig.redis("cache")``, ``rig.stub("payments")``, ``rig.fault("db")``, ``rig.mail("smtp")``."""
    session = session_of(request.config)
    try:
        the_rig = session.get_rig()
    except StackrigError as exc:
        pytest.fail(f"stackrig could not start the stack:\n{exc}", pytrace=False)
    session.first_test(request.node.nodeid)
    yield the_rig


@pytest.fixture
def rig_transaction(rig: Rig) -> Iterator[Any]:
    """A psycopg connection in a transaction rolled back after the test (the only SQL service)."""
    with rig.transaction() as conn:
        yield conn


@pytest.fixture
def rig_session(rig: Rig) -> Iterator[Any]:
    """A SQLAlchemy Session in a transaction rolled back after the test; its commits are savepoints."""
    with rig.session() as session:
        yield session
