"""The payment-gateway client (:class:`shop.payments.PaymentGateway`) and its breaker, against the
stack's ``payments`` service.

``payments`` (kind = "http-stub") is a WireMock-compatible stub server loaded from
``stubs/payments/mappings``: a charge succeeds with ``id`` ``ch_<order_id>``, and amounts ending in
402 cents are declined.  Tests script other answers with ``rig.stub("payments").on(...)`` at
priority 1 (above the files) and read what the client sent from the stub's request journal;
stackrig puts the stub back to its mapping files, with an empty journal, after each test.  These
tests build a ``PaymentGateway`` themselves, with its own breaker on a clock the test advances;
``POST /orders/{id}/pay`` through the API is checked end to end in ``test_saga.py`` and
``test_outages.py`` (where a decline or a failure cancels the order: the client only says why).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import pytest
from shop.breaker import BreakerState, CircuitBreaker
from shop.errors import ApiError
from shop.payments import Charge, PaymentGateway

from stackrig import Rig
from stackrig.stub import StubClient, post

T = TypeVar("T")


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def stub(rig: Rig) -> StubClient:
    return rig.stub("payments")


@pytest.fixture
def gateway_url(rig: Rig) -> str:
    return rig["payments"].url


class LoopThread:
    """One event loop per test, in a thread of its own, shared by all its calls (the client's
    connections live on it).  Not ``asyncio.Runner`` in the test's thread: once a browser test has
    run, Playwright's sync API keeps an event loop running there for the rest of the session."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="gateway-loop", daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@pytest.fixture
def runner() -> Iterator[LoopThread]:
    loop = LoopThread()
    yield loop
    loop.close()


@pytest.fixture
def make_gateway(gateway_url: str, runner: LoopThread) -> Iterator[Callable[..., PaymentGateway]]:
    made: list[PaymentGateway] = []

    def _make(clock: Clock | None = None, timeout_s: float = 5.0) -> PaymentGateway:
        breaker = CircuitBreaker("payment-gateway", threshold=3, cooldown_s=30.0, clock=clock or Clock())
        made.append(PaymentGateway(gateway_url, timeout_s=timeout_s, breaker=breaker))
        return made[-1]

    yield _make
    for gateway in made:
        runner.run(gateway.close())


@pytest.fixture
def charge(runner: LoopThread) -> Callable[..., Charge]:
    def _charge(gateway: PaymentGateway, order_id: int = 7, amount_cents: int = 1999) -> Charge:
        return runner.run(gateway.charge(order_id=order_id, amount_cents=amount_cents, currency="EUR"))

    return _charge


@pytest.fixture
def fails_with(charge: Callable[..., Charge]) -> Callable[..., str]:
    def _fails_with(gateway: PaymentGateway, status: int, *words: str, amount_cents: int = 1999) -> str:
        with pytest.raises(ApiError) as error:
            charge(gateway, amount_cents=amount_cents)
        assert error.value.status == status, error.value.message
        for word in words:
            assert word in error.value.message
        return error.value.message

    return _fails_with


def test_charge_posts_the_order_and_returns_the_charge_id(
    stub: StubClient, make_gateway: Callable[..., PaymentGateway], charge: Callable[..., Charge]
) -> None:
    # the mapping file's answer: 201 {"id": "ch_<order_id>", "status": "succeeded"}
    assert charge(make_gateway(), order_id=42) == Charge(charge_id="ch_42")
    [sent] = stub.requests()
    assert (sent.method, sent.url) == ("POST", "/charges")
    assert sent.json() == {"amount_cents": 1999, "currency": "EUR", "order_id": 42}
    assert sent.header("Idempotency-Key") == "order-42"
    assert "application/json" in (sent.header("Content-Type") or "")
    stub.verify(post("/charges").header("Idempotency-Key", "order-42")
                .json_body({"amount_cents": 1999, "currency": "EUR", "order_id": 42}), times=1)


def test_the_id_of_a_scripted_answer_is_returned(
    stub: StubClient, make_gateway: Callable[..., PaymentGateway], charge: Callable[..., Charge]
) -> None:
    stub.on(post("/charges"), priority=1).reply(201, json={"id": "ch_scripted", "status": "succeeded"})
    assert charge(make_gateway(), order_id=42) == Charge(charge_id="ch_scripted")


def test_200_without_an_id_is_a_charge(
    stub: StubClient, make_gateway: Callable[..., PaymentGateway], charge: Callable[..., Charge]
) -> None:
    stub.on(post("/charges"), priority=1).reply(200, body="not json")
    gateway = make_gateway()
    assert charge(gateway) == Charge(charge_id=None)
    assert gateway.breaker.state is BreakerState.CLOSED
    stub.verify(post("/charges"), times=1)


def test_decline_is_402_with_the_gateways_reason_and_does_not_trip_the_breaker(
    stub: StubClient, make_gateway: Callable[..., PaymentGateway], fails_with: Callable[..., str]
) -> None:
    gateway = make_gateway()
    for _ in range(5):  # more than the breaker's threshold of 3
        # the mapping file declines amounts ending in 402 with {"error": "card_declined", ...}
        fails_with(gateway, 402, "payment declined by the gateway: card_declined", amount_cents=2402)
    assert gateway.breaker.state is BreakerState.CLOSED
    stub.verify(post("/charges").json_path("$.amount_cents", "2402"), times=5)  # each one reached the gateway


def test_a_scripted_decline_reason_is_passed_on(
    stub: StubClient, make_gateway: Callable[..., PaymentGateway], fails_with: Callable[..., str]
) -> None:
    stub.on(post("/charges"), priority=1).reply(402, json={"reason": "insufficient funds"})
    fails_with(make_gateway(), 402, "payment declined by the gateway: insufficient funds")


def test_server_error_is_502(
    stub: StubClient, make_gateway: Callable[..., PaymentGateway], fails_with: Callable[..., str]
) -> None:
    stub.on(post("/charges"), priority=1).reply(500, json={"error": "boom"})
    fails_with(make_gateway(), 502, "answered 500", "expected 200, 201 or 402")


def test_timeout_is_504(
    stub: StubClient,
    gateway_url: str,
    make_gateway: Callable[..., PaymentGateway],
    fails_with: Callable[..., str],
) -> None:
    # the gateway answers, but only after 1.5 s: a client that waited would get a charge
    stub.on(post("/charges"), priority=1).reply(201, json={"id": "ch_late"}, delay_ms=1500)
    gateway = make_gateway(timeout_s=0.2)
    assert fails_with(gateway, 504, "timed out", gateway_url) == f"payment gateway at {gateway_url} timed out"
    stub.verify(post("/charges"), times=1)  # it was called, and gave up waiting


@pytest.mark.parametrize("fault", ["CONNECTION_RESET_BY_PEER", "EMPTY_RESPONSE", "RANDOM_DATA_THEN_CLOSE"])
def test_a_broken_connection_is_502(
    fault: str, stub: StubClient, make_gateway: Callable[..., PaymentGateway], fails_with: Callable[..., str]
) -> None:
    stub.on(post("/charges"), priority=1).fault(fault)
    fails_with(make_gateway(), 502, "unreachable")


def test_unreachable_gateway_is_502(
    rig: Rig, gateway_url: str, make_gateway: Callable[..., PaymentGateway], fails_with: Callable[..., str]
) -> None:
    gateway = make_gateway()
    rig["payments"].stop()  # connections to its port are refused until it is started again
    try:
        fails_with(gateway, 502, "unreachable", "ConnectError", gateway_url)
    finally:
        rig["payments"].start()


def test_breaker_opens_after_three_failures_and_stops_calling(
    stub: StubClient,
    make_gateway: Callable[..., PaymentGateway],
    charge: Callable[..., Charge],
    fails_with: Callable[..., str],
) -> None:
    clock = Clock()
    # three kinds of failure in a row (a sequence: each answer once, then the last repeats)
    stub.on(post("/charges"), priority=2).reply(503, json={}).then(500, json={}).then(502, json={})
    gateway = make_gateway(clock)
    for status in (503, 500, 502):
        fails_with(gateway, 502, f"answered {status}")
    message = fails_with(gateway, 503, "payment gateway unavailable", "circuit breaker", "open")
    assert "retry in 30.0 s" in message
    stub.verify(post("/charges"), times=3)  # an open breaker must not call the gateway

    clock.now += 29
    fails_with(gateway, 503, "circuit breaker")  # still cooling down
    stub.verify(post("/charges"), times=3)

    clock.now += 1
    stub.on(post("/charges"), priority=1).reply(201, json={"id": "ch_trial"})  # the gateway has recovered
    assert charge(gateway) == Charge("ch_trial")  # the trial call goes through ...
    assert gateway.breaker.state is BreakerState.CLOSED  # ... and closes the breaker
    stub.verify(post("/charges"), times=4)


def test_a_failed_trial_call_opens_the_breaker_again(
    stub: StubClient,
    make_gateway: Callable[..., PaymentGateway],
    fails_with: Callable[..., str],
) -> None:
    clock = Clock()
    stub.on(post("/charges"), priority=1).reply(500, json={"error": "still broken"})
    gateway = make_gateway(clock)
    for _ in range(3):
        fails_with(gateway, 502, "answered 500")
    clock.now += 30
    fails_with(gateway, 502, "answered 500")  # the trial call, failing
    assert gateway.breaker.state is BreakerState.OPEN
    fails_with(gateway, 503, "circuit breaker")
    stub.verify(post("/charges"), times=4)
