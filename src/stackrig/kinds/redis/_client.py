"""What `rig` hands tests for a redis service, and its per-test reset and xdist slice."""

from __future__ import annotations

from typing import Any

from ...config import ServiceSpec
from ...errors import StackrigError
from ...services import Endpoint, Slice, TestReset
from ._spec import RedisSpec

__all__ = ["connect", "make_reset", "redis_slice"]


def connect(endpoint: Endpoint) -> Any:
    """A redis-py client (``decode_responses=True``) on the test's back door."""
    try:
        import redis
    except ImportError:
        raise StackrigError("rig.redis() needs redis-py", hint="pip install redis") from None
    return redis.Redis.from_url(endpoint.direct_url, decode_responses=True)


class _Flush(TestReset):
    """`isolation = "flush"`: the test's database index is flushed when the test wrote to it."""

    def __init__(self, iso: Any) -> None:
        self.iso = iso

    def after(self, test_id: str) -> None:
        self.iso.reset(test_id=test_id)

    def close(self) -> None:
        self.iso.close()


def make_reset(spec: ServiceSpec, endpoint: Endpoint) -> TestReset | None:
    assert isinstance(spec, RedisSpec)
    if spec.isolation != "flush":
        return None
    from ...isolation import RedisIsolation

    iso = RedisIsolation(endpoint.direct_url)
    iso.install()
    return _Flush(iso)


def redis_slice(endpoint: Endpoint, worker_id: str, index: int) -> Slice:
    """Worker `gwN` gets database index N + 1 (index 0 stays the controller's)."""
    return Slice(url=endpoint.direct_url.rsplit("/", 1)[0] + f"/{index + 1}")
