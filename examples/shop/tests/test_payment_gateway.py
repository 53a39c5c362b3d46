"""The payment-gateway client and its breaker, against a real HTTP stub of the gateway.

(The end-to-end ``/orders/{id}/pay`` tests need a gateway service in the stack;
they come with stackrig's stub services.)
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from shop.breaker import BreakerState, CircuitBreaker
from shop.errors import ApiError
from shop.payments import Charge, PaymentGateway


@dataclass
class Stub:
    """Answers POST /charges with the next scripted (status, body); "hang" waits until released."""

    url: str = ""
    script: list[tuple[int, Any] | str] = field(default_factory=list)
    requests: list[tuple[str, dict[str, str], Any]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def stub() -> Iterator[Stub]:
    state = Stub()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.requests.append((self.path, dict(self.headers), body))
            step = state.script.pop(0) if state.script else (201, {"id": "ch_default"})
            if step == "hang":
                state.release.wait(30)
                step = (201, {})
            assert isinstance(step, tuple)
            status, payload = step
            data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
        thread.join(10)


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def runner() -> Iterator[asyncio.Runner]:
    """One event loop per test, shared by all its calls (the client's connections live on it)."""
    with asyncio.Runner() as loop:
        yield loop


@pytest.fixture
def make_gateway(stub: Stub, runner: asyncio.Runner) -> Iterator[Callable[..., PaymentGateway]]:
    made: list[PaymentGateway] = []

    def _make(clock: Clock | None = None, timeout_s: float = 5.0, url: str | None = None) -> PaymentGateway:
        breaker = CircuitBreaker("payment-gateway", threshold=3, cooldown_s=30.0, clock=clock or Clock())
        made.append(PaymentGateway(url or stub.url, timeout_s=timeout_s, breaker=breaker))
        return made[-1]

    yield _make
    for gateway in made:
        runner.run(gateway.close())


@pytest.fixture
def charge(runner: asyncio.Runner) -> Callable[..., Charge]:
    def _charge(gateway: PaymentGateway, order_id: int = 7) -> Charge:
        return runner.run(gateway.charge(order_id=order_id, amount_cents=1999, currency="EUR"))

    return _charge


@pytest.fixture
def fails_with(charge: Callable[..., Charge]) -> Callable[..., str]:
    def _fails_with(gateway: PaymentGateway, status: int, *words: str) -> str:
        with pytest.raises(ApiError) as error:
            charge(gateway)
        assert error.value.status == status, error.value.message
        for word in words:
            assert word in error.value.message
        return error.value.message

    return _fails_with


def test_charge_posts_the_order_and_returns_the_charge_id(
    stub: Stub, make_gateway: Callable[..., PaymentGateway], charge: Callable[..., Charge]
) -> None:
    stub.script = [(201, {"id": "ch_42", "status": "succeeded"})]
    assert charge(make_gateway(), order_id=42) == Charge(charge_id="ch_42")
    path, headers, body = stub.requests[0]
    assert path == "/charges"
    assert body == {"amount_cents": 1999, "currency": "EUR", "order_id": 42}
    assert headers["Idempotency-Key"] == "order-42"


def test_200_without_an_id_is_a_charge(
    stub: Stub, make_gateway: Callable[..., PaymentGateway], charge: Callable[..., Charge]
) -> None:
    stub.script = [(200, "not json")]
    assert charge(make_gateway()) == Charge(charge_id=None)


def test_decline_is_402_with_the_gateways_reason_and_does_not_trip_the_breaker(
    stub: Stub, make_gateway: Callable[..., PaymentGateway], fails_with: Callable[..., str]
) -> None:
    stub.script = [(402, {"error": "card declined"})] * 5
    gateway = make_gateway()
    for _ in range(5):
        fails_with(gateway, 402, "payment declined by the gateway: card declined", "stays pending")
    assert gateway.breaker.state is BreakerState.CLOSED


def test_server_error_is_502(
    stub: Stub, make_gateway: Callable[..., PaymentGateway], fails_with: Callable[..., str]
) -> None:
    stub.script = [(500, {"error": "boom"})]
    fails_with(make_gateway(), 502, "answered 500", "expected 200, 201 or 402")


def test_timeout_is_504(
    stub: Stub, make_gateway: Callable[..., PaymentGateway], fails_with: Callable[..., str]
) -> None:
    stub.script = ["hang"]
    fails_with(make_gateway(timeout_s=0.2), 504, "timed out", stub.url)


def test_unreachable_gateway_is_502(
    make_gateway: Callable[..., PaymentGateway], fails_with: Callable[..., str]
) -> None:
    with socket.socket() as bound_not_listening:  # connections to it are refused while it is held
        bound_not_listening.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{bound_not_listening.getsockname()[1]}"
        fails_with(make_gateway(url=url), 502, "unreachable", "ConnectError", url)


def test_breaker_opens_after_three_failures_and_stops_calling(
    stub: Stub,
    make_gateway: Callable[..., PaymentGateway],
    charge: Callable[..., Charge],
    fails_with: Callable[..., str],
) -> None:
    clock = Clock()
    stub.script = [(503, {}), (500, {}), (502, {})]
    gateway = make_gateway(clock)
    for _ in range(3):
        fails_with(gateway, 502)
    message = fails_with(gateway, 503, "payment gateway unavailable", "circuit breaker", "open")
    assert "retry in 30.0 s" in message
    assert len(stub.requests) == 3, "an open breaker must not call the gateway"

    clock.now += 30
    stub.script = [(201, {"id": "ch_trial"})]
    assert charge(gateway) == Charge("ch_trial")
    assert gateway.breaker.state is BreakerState.CLOSED
    assert len(stub.requests) == 4
