"""RedisIsolation: flush one Redis database (or key prefix) after a test, only if something was written."""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import redis

from stackrig.errors import IsolationError

from ._errors import ResetFailed
from ._report import RedisResetReport

# The whole reset in one atomic script: delete (the database, or the keys matching the
# glob ARGV[1]), restore the baseline (ARGV[2..] = key, ttl, payload triples), and read
# the write counter inside the same step.  (MULTI/EXEC would not do: EXEC bumps the
# counter once more after the reading.)
_RESET_SCRIPT = """
local deleted = 0
if ARGV[1] == "" then
    deleted = redis.call("DBSIZE")
    redis.call("FLUSHDB")
else
    local cursor = "0"
    repeat
        local page = redis.call("SCAN", cursor, "MATCH", ARGV[1], "COUNT", 1000)
        cursor = page[1]
        for _, key in ipairs(page[2]) do
            redis.call("UNLINK", key)
            deleted = deleted + 1
        end
    until cursor == "0"
end
for i = 2, #ARGV, 3 do
    redis.call("RESTORE", ARGV[i], ARGV[i + 1], ARGV[i + 2], "REPLACE")
end
return {deleted, redis.call("INFO", "persistence")}
"""


def _parse_info(text: bytes | str) -> dict[str, Any]:
    if isinstance(text, bytes):
        text = text.decode()
    fields: dict[str, Any] = {}
    for line in text.splitlines():
        if ":" in line and not line.startswith("#"):
            key, value = line.split(":", 1)
            fields[key] = value.strip()
    return fields


@dataclass(frozen=True)
class _Stamp:
    """The server's write counter and save marks; equal stamps mean no write in between."""

    changes: int  # rdb_changes_since_last_save: every write bumps it, synchronously
    last_save: int  # rdb_last_save_time: a save resets `changes`, so it must not have run
    saves: int | None  # rdb_saves (Redis >= 7)
    bgsave_running: bool

    @classmethod
    def parse(cls, info: dict[str, Any]) -> _Stamp:
        saves = info.get("rdb_saves")
        return cls(
            changes=int(info["rdb_changes_since_last_save"]),
            last_save=int(info["rdb_last_save_time"]),
            saves=None if saves is None else int(saves),
            bgsave_running=bool(int(info.get("rdb_bgsave_in_progress", 0))),
        )


def _glob_escape(prefix: str) -> str:
    return re.sub(r"([*?\[\]\\])", r"\\\1", prefix) + "*"


class RedisIsolation:
    """Per-test isolation of one Redis database, or of the keys under one prefix.

    ``RedisIsolation(url, db=3)`` owns database 3 (e.g. one per xdist worker);
    ``RedisIsolation(url, prefix="w1:")`` owns the keys starting with ``w1:``,
    for servers without database indexes.  :meth:`install` records the baseline
    (the keys present then, usually none); :meth:`reset` puts it back.

    Change detection is the server's own write counter, ``INFO persistence``
    ``rdb_changes_since_last_save``: Redis bumps it synchronously in every
    command that modifies the dataset (and on expiry and eviction), so "same
    value as after the last reset" means nothing was written, with no race and
    one round-trip.  It counts writes to every database and prefix, so a write
    elsewhere on the server only costs an unneeded flush.  A save resets it, so
    a changed ``rdb_last_save_time``/``rdb_saves`` or a running BGSAVE also
    counts as a change (a save within the same second as the previous reset,
    on Redis < 7, is the one case left to the 1-second resolution).  The flush,
    the restore and the new reading run in one Lua script, atomically, so no
    other client's write can slip between them.  Prefix mode SCANs inside the
    script, so it is for a single server, not Redis Cluster.
    """

    def __init__(self, url: str, *, db: int | None = None, prefix: str | None = None) -> None:
        if prefix is not None and prefix == "":
            raise IsolationError(
                "RedisIsolation prefix is empty (expected a non-empty key prefix such as 'w1:'; an empty "
                "prefix would delete every key of the database)",
                hint="pass prefix=None to isolate the whole database, or a real prefix",
            )
        self.url = url
        self.prefix = prefix
        try:
            self._pool = redis.ConnectionPool.from_url(url, socket_timeout=30)
        except ValueError as exc:
            raise IsolationError(
                f"cannot parse the Redis URL {url!r} (expected redis://host:port/db; found: {exc})",
                hint="pass the URL of the Redis server to isolate",
            ) from exc
        if db is not None:  # from_url() lets the URL's /db win over a db= argument: ours wins
            self._pool.connection_kwargs["db"] = db
        self._client = redis.Redis(connection_pool=self._pool)
        self.db = int(self._pool.connection_kwargs.get("db", 0))
        self.dirty = False
        self.last_error: IsolationError | None = None
        self.last_report: RedisResetReport | None = None
        self._baseline: list[tuple[bytes, int, bytes]] = []
        self._stamp: _Stamp | None = None

    @property
    def target(self) -> str:
        return f"keys '{self.prefix}*' of {self.url}" if self.prefix else f"database {self.db} of {self.url}"

    def _read_stamp(self) -> _Stamp:
        return _Stamp.parse(self._client.info("persistence"))

    def install(self) -> None:
        """Record the current keys (values and TTLs) as the baseline, and the write counter."""
        try:
            keys = list(self._client.scan_iter(match=_glob_escape(self.prefix) if self.prefix else None, count=1000))
            pipe = self._client.pipeline(transaction=False)
            for key in keys:
                pipe.dump(key)
                pipe.pttl(key)
            replies = pipe.execute()
            self._baseline = [
                (key, max(int(ttl), 0), payload)
                for key, payload, ttl in zip(keys, replies[0::2], replies[1::2], strict=True)
                if payload is not None
            ]
            self._stamp = self._read_stamp()
        except redis.RedisError as exc:
            raise IsolationError(
                f"{self.target}: install() failed (expected a reachable Redis server; found: "
                f"{type(exc).__name__}: {exc})",
                hint="check that the server runs and that the URL is right",
            ) from exc
        self.dirty = False
        self.last_error = None

    def reset(self, *, test_id: str | None = None) -> RedisResetReport:
        """Put the baseline back if anything was written since the last reset; else one INFO."""
        if self._stamp is None:
            self.install()  # first use: the baseline is what is there now
        try:
            report = self._reset()
        except redis.RedisError as exc:
            error = ResetFailed(
                database=self.target, test_id=test_id, cause=f"{type(exc).__name__}: {exc}",
                hint="check that the Redis server still runs; the next test must not run on this data",
            )
            self.dirty = True
            self.last_error = error
            raise error from exc
        self.dirty = False
        self.last_error = None
        self.last_report = report
        return report

    def _reset(self) -> RedisResetReport:
        stamp = self._read_stamp()
        if stamp == self._stamp and not stamp.bgsave_running:
            return RedisResetReport(mode="noop")
        args: list[Any] = [_glob_escape(self.prefix) if self.prefix else ""]
        for key, ttl, payload in self._baseline:
            args.extend((key, ttl, payload))
        deleted, info = self._client.eval(_RESET_SCRIPT, 0, *args)
        self._stamp = _Stamp.parse(_parse_info(info))
        return RedisResetReport(mode="restore", deleted=int(deleted), restored=len(self._baseline))

    def close(self) -> None:
        self._client.close()
        self._pool.disconnect()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
