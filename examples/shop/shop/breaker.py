"""A circuit breaker for calls to an unreliable dependency (the payment gateway).

closed ──(threshold consecutive failures)──▶ open ──(cool-down elapsed)──▶ half-open
  ▲                                            ▲                              │
  └──────────────(trial call succeeds)─────────┴───(trial call fails)─────────┘

While open every call is refused at once.  In half-open exactly one trial call
is let through; other callers are refused until it ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum

__all__ = ["BreakerState", "CircuitBreaker", "CircuitOpen"]


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


class CircuitOpen(Exception):
    """The breaker refused a call; ``retry_after_s`` is the time left in the cool-down."""

    def __init__(self, name: str, retry_after_s: float) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(
            f"circuit breaker '{name}' is open after repeated failures; retry in {retry_after_s:.1f} s"
        )


class CircuitBreaker:
    """Not thread-safe by design: the app uses it from one event loop, without awaiting inside."""

    def __init__(
        self,
        name: str,
        *,
        threshold: int = 3,
        cooldown_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if threshold < 1:
            raise ValueError(f"threshold must be >= 1, got {threshold}")
        self.name = name
        self._threshold = threshold
        self._cooldown_s = cooldown_s
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._trial_running or self._clock() - self._opened_at >= self._cooldown_s:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def before_call(self) -> None:
        """Admit a call or raise :class:`CircuitOpen`; every admitted call must end in record_*()."""
        state = self.state
        if state is BreakerState.CLOSED:
            return
        if state is BreakerState.HALF_OPEN and not self._trial_running:
            self._trial_running = True
            return
        assert self._opened_at is not None
        remaining = max(0.0, self._cooldown_s - (self._clock() - self._opened_at))
        raise CircuitOpen(self.name, remaining)

    def record_success(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._trial_running = False

    def record_failure(self) -> None:
        self._failures += 1
        if self._trial_running or self._failures >= self._threshold:
            self._opened_at = self._clock()
        self._trial_running = False
