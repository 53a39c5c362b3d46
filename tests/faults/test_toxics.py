"""Each toxic observed by a real client, through the real proxy process, to a real echo server."""

from __future__ import annotations

import os
import socket
import time
from typing import Any

import pytest

from stackrig.faults import FaultClient

RESPONSE_WAIT = 30.0


def recv_exactly(sock: socket.socket, size: int) -> bytes:
    buf = bytearray()
    while len(buf) < size:
        chunk = sock.recv(size - len(buf))
        if not chunk:
            break
        buf += chunk
    return bytes(buf)


def recv_until_closed(sock: socket.socket) -> bytes:
    buf = bytearray()
    while chunk := sock.recv(65536):
        buf += chunk
    return bytes(buf)


def roundtrip(proxied: Any, payload: bytes) -> tuple[bytes, float]:
    with proxied.connect() as sock:
        start = time.monotonic()
        sock.sendall(payload)
        echoed = recv_exactly(sock, len(payload))
        return echoed, time.monotonic() - start


def test_relays_bytes_unchanged_without_toxics(echo_proxy: Any) -> None:
    payload = os.urandom(1 << 20)
    echoed, _ = roundtrip(echo_proxy, payload)
    assert echoed == payload


def test_latency_delays_at_least_the_latency(echo_proxy: Any) -> None:
    with echo_proxy.fault.latency(300):
        echoed, took = roundtrip(echo_proxy, b"ping")
    assert echoed == b"ping"
    assert took >= 0.3


def test_latency_upstream_and_downstream_add_up(echo_proxy: Any) -> None:
    with echo_proxy.fault.latency(200, stream="upstream"), echo_proxy.fault.latency(200):
        _, took = roundtrip(echo_proxy, b"ping")
    assert took >= 0.4


def test_toxic_applies_to_a_connection_opened_before_it(echo_proxy: Any) -> None:
    with echo_proxy.connect() as sock:
        sock.sendall(b"a")
        assert recv_exactly(sock, 1) == b"a"
        with echo_proxy.fault.latency(300):
            start = time.monotonic()
            sock.sendall(b"b")
            assert recv_exactly(sock, 1) == b"b"
            assert time.monotonic() - start >= 0.3
        sock.sendall(b"c")  # back on the fast path, still in order
        assert recv_exactly(sock, 1) == b"c"


def test_down_closes_live_connections_and_refuses_new_ones_up_restores(echo_proxy: Any) -> None:
    with echo_proxy.connect() as live:
        live.sendall(b"x")
        assert recv_exactly(live, 1) == b"x"
        with echo_proxy.fault.down():
            assert echo_proxy.fault.info()["enabled"] is False
            try:
                assert live.recv(1) == b""  # closed by the proxy
            except ConnectionResetError:
                pass
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", echo_proxy.port), timeout=RESPONSE_WAIT)
    echoed, _ = roundtrip(echo_proxy, b"back")
    assert echoed == b"back"


def test_timeout_zero_stalls_the_connection(echo_proxy: Any) -> None:
    with echo_proxy.fault.timeout(0), echo_proxy.connect() as sock:
        sock.sendall(b"hello")
        sock.settimeout(0.5)
        with pytest.raises(TimeoutError):
            sock.recv(5)


def test_timeout_closes_after_the_timeout(echo_proxy: Any) -> None:
    with echo_proxy.fault.timeout(300), echo_proxy.connect() as sock:
        start = time.monotonic()
        sock.sendall(b"hello")
        assert recv_until_closed(sock) == b""
        assert time.monotonic() - start >= 0.25  # timer starts at connect, a hair before `start`


def test_reset_peer_resets_the_connection(echo_proxy: Any) -> None:
    with echo_proxy.fault.reset_peer(0), echo_proxy.connect() as sock:
        sock.sendall(b"hello")
        with pytest.raises(ConnectionResetError):
            recv_until_closed(sock)


def test_bandwidth_limits_the_rate(echo_proxy: Any) -> None:
    payload = os.urandom(40_000)
    with echo_proxy.fault.bandwidth(100):  # 100 KB/s → 40 KB take >= 0.4 s
        echoed, took = roundtrip(echo_proxy, payload)
    assert echoed == payload
    assert took >= 0.35


def test_slicer_delivers_everything_in_pieces(echo_proxy: Any) -> None:
    payload = bytes(range(256)) * 4
    with echo_proxy.fault.slice(100, 20, delay_us=10_000), echo_proxy.connect() as sock:
        sock.sendall(payload)
        pieces = []
        while sum(map(len, pieces)) < len(payload):
            piece = sock.recv(65536)
            assert piece
            pieces.append(piece)
    assert b"".join(pieces) == payload
    assert len(pieces) >= 2


def test_limit_data_closes_after_the_limit(echo_proxy: Any) -> None:
    with echo_proxy.fault.limit_data(30), echo_proxy.connect() as sock:
        sock.sendall(b"z" * 100)
        assert recv_until_closed(sock) == b"z" * 30


def test_slow_close_delays_the_close(echo_proxy: Any) -> None:
    with echo_proxy.fault.slow_close(300), echo_proxy.connect() as sock:
        sock.sendall(b"bye")
        sock.shutdown(socket.SHUT_WR)  # the echo server then closes its side
        start = time.monotonic()
        assert recv_until_closed(sock) == b"bye"
        assert time.monotonic() - start >= 0.25


def test_toxicity_zero_has_no_effect(echo_proxy: Any) -> None:
    with echo_proxy.fault.timeout(0, toxicity=0.0):
        echoed, _ = roundtrip(echo_proxy, b"through")
    assert echoed == b"through"


def test_reset_removes_toxics_and_enables_proxies(faults: FaultClient, echo_proxy: Any) -> None:
    echo_proxy.fault.timeout(0)
    echo_proxy.fault.down()
    faults.reset()
    assert echo_proxy.fault.toxics() == []
    assert echo_proxy.fault.info()["enabled"] is True
    echoed, _ = roundtrip(echo_proxy, b"ok")
    assert echoed == b"ok"


def test_context_manager_removes_only_its_toxic(echo_proxy: Any) -> None:
    keep = echo_proxy.fault.latency(1, name="keep")
    with echo_proxy.fault.limit_data(10) as toxic:
        assert {t.name for t in echo_proxy.fault.toxics()} == {"keep", toxic.name}
    assert [t.name for t in echo_proxy.fault.toxics()] == ["keep"]
    keep.remove()
    echo_proxy.fault.clear()
    assert echo_proxy.fault.toxics() == []


def test_proxy_from_the_config_file_relays(fault_server: Any) -> None:
    with socket.create_connection(("127.0.0.1", fault_server.config_proxy_port), timeout=RESPONSE_WAIT) as s:
        s.sendall(b"cfg")
        assert recv_exactly(s, 3) == b"cfg"
