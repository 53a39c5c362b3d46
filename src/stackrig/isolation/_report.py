"""What a reset did, and who was in the way: plain values, no behaviour."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

ResetMode = Literal["noop", "restore", "full"]


@dataclass(frozen=True)
class Session:
    """Another server session (backend) as seen in ``pg_stat_activity``."""

    pid: int
    application_name: str
    state: str | None
    query: str
    xact_start: datetime | None = None
    locks: tuple[str, ...] = ()  # "RowExclusiveLock on public.orders"

    def describe(self) -> str:
        app = f" application '{self.application_name}'" if self.application_name else ""
        state = self.state or "unknown state"
        since = f" since {self.xact_start:%H:%M:%S}" if self.xact_start else ""
        locks = f"; holds {', '.join(self.locks)}" if self.locks else ""
        query = " ".join(self.query.split())
        if len(query) > 300:
            query = query[:297] + "..."
        return f"pid {self.pid}{app} ({state}{since}){locks}; last query: {query or '(none)'}"


@dataclass(frozen=True)
class ResetReport:
    """The outcome of one :meth:`PgIsolation.reset`.

    ``mode`` is ``"noop"`` (nothing changed: nothing was written), ``"restore"``
    (the listed tables and sequences were put back in place) or ``"full"`` (the
    schema changed: the database was recreated from its template).
    """

    mode: ResetMode
    tables: tuple[str, ...] = ()
    sequences: tuple[str, ...] = ()
    terminated: tuple[Session, ...] = field(default=())


@dataclass(frozen=True)
class RedisResetReport:
    """The outcome of one :meth:`RedisIsolation.reset`: ``deleted`` keys, ``restored`` baseline keys."""

    mode: Literal["noop", "restore"]
    deleted: int = 0
    restored: int = 0
