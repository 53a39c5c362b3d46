"""The product read cache in Redis: key ``product:{id}``, the product's JSON.

Redis is only a cache, never the source of truth: every Redis failure is logged
and treated as a miss, so reads fall back to PostgreSQL when Redis is down.
Entries expire after ``ttl_s`` as a bound on staleness after a missed
invalidation.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

__all__ = ["ProductCache", "connect_redis", "product_key"]

log = logging.getLogger("shop")


def product_key(product_id: int) -> str:
    return f"product:{product_id}"


class ProductCache:
    """Best-effort get/put/invalidate; a disabled cache (no REDIS_URL) always misses."""

    def __init__(self, redis: aioredis.Redis | None, *, ttl_s: int = 300) -> None:
        self._ttl_s = ttl_s
        self._redis = redis

    async def get(self, product_id: int) -> dict[str, Any] | None:
        if self._redis is None:
            return None
        try:
            raw = await self._redis.get(product_key(product_id))
        except RedisError as exc:
            log.warning("cache read of product %s failed, reading the database: %s", product_id, exc)
            return None
        if raw is None:
            return None
        try:
            value = json.loads(raw)
        except ValueError:
            log.warning("cache entry %s is not JSON; ignoring it", product_key(product_id))
            return None
        return value if isinstance(value, dict) else None

    async def put(self, product: dict[str, Any]) -> None:
        if self._redis is None:
            return
        try:
            await self._redis.set(product_key(int(product["id"])), json.dumps(product), ex=self._ttl_s)
        except RedisError as exc:
            log.warning("cache fill of product %s failed: %s", product["id"], exc)

    async def invalidate(self, *product_ids: int) -> None:
        if self._redis is None or not product_ids:
            return
        try:
            await self._redis.delete(*(product_key(i) for i in product_ids))
        except RedisError as exc:
            log.warning("cache invalidation of products %s failed: %s", list(product_ids), exc)


def connect_redis(url: str | None, *, timeout_s: float = 0.5) -> aioredis.Redis | None:
    """The app's Redis client (shared by the cache and the login limit), or None without a URL.

    Short timeouts and no retries: a dead Redis must cost a request little before the cache
    falls back to the database."""
    if not url:
        return None
    return aioredis.Redis.from_url(
        url, decode_responses=True, socket_timeout=timeout_s, socket_connect_timeout=timeout_s, retry=None
    )
