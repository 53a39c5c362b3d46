"""The circuit breaker's state machine, on a clock the test advances."""

from __future__ import annotations

import pytest
from shop.breaker import BreakerState, CircuitBreaker, CircuitOpen


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def breaker(clock: Clock) -> CircuitBreaker:
    return CircuitBreaker("gateway", threshold=3, cooldown_s=30.0, clock=clock)


def state_of(breaker: CircuitBreaker) -> BreakerState:
    """(A function, so the type checker does not narrow the property between assertions.)"""
    return breaker.state


def fail(breaker: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        breaker.before_call()
        breaker.record_failure()


def test_opens_after_threshold_consecutive_failures(breaker: CircuitBreaker) -> None:
    fail(breaker, 2)
    assert state_of(breaker) is BreakerState.CLOSED
    fail(breaker, 1)
    assert state_of(breaker) is BreakerState.OPEN
    with pytest.raises(CircuitOpen) as refused:
        breaker.before_call()
    assert str(refused.value) == "circuit breaker 'gateway' is open after repeated failures; retry in 30.0 s"
    assert refused.value.retry_after_s == 30.0


def test_a_success_resets_the_failure_count(breaker: CircuitBreaker) -> None:
    fail(breaker, 2)
    breaker.before_call()
    breaker.record_success()
    fail(breaker, 2)
    assert state_of(breaker) is BreakerState.CLOSED


def test_after_cooldown_one_trial_call_closes_on_success(breaker: CircuitBreaker, clock: Clock) -> None:
    fail(breaker, 3)
    clock.now += 29.9
    assert pytest.raises(CircuitOpen, breaker.before_call).value.retry_after_s == pytest.approx(0.1)
    clock.now += 0.1
    assert state_of(breaker) is BreakerState.HALF_OPEN
    breaker.before_call()  # the trial
    with pytest.raises(CircuitOpen):
        breaker.before_call()  # only one trial at a time
    breaker.record_success()
    assert state_of(breaker) is BreakerState.CLOSED
    breaker.before_call()


def test_a_failed_trial_reopens_for_a_full_cooldown(breaker: CircuitBreaker, clock: Clock) -> None:
    fail(breaker, 3)
    clock.now += 30
    fail(breaker, 1)
    assert state_of(breaker) is BreakerState.OPEN
    clock.now += 29
    assert state_of(breaker) is BreakerState.OPEN
    clock.now += 1
    assert state_of(breaker) is BreakerState.HALF_OPEN


def test_threshold_must_be_positive() -> None:
    with pytest.raises(ValueError, match="threshold must be >= 1, got 0"):
        CircuitBreaker("x", threshold=0)
