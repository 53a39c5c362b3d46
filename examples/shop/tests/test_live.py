"""``/ws/orders/{id}``: the order's statuses pushed over a WebSocket as the saga moves it on —
each status once, in order, also those it had before the socket was opened."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from _support import RegisteredUser, place, wait_for_status
from websockets.exceptions import ConnectionClosed, InvalidStatus

from stackrig import Rig
from stackrig.stub import post


def statuses(ws: Any, n: int, order_id: int) -> list[str]:
    got = [json.loads(ws.recv(timeout=15)) for _ in range(n)]
    assert all(m["order_id"] == order_id and set(m) == {"order_id", "status"} for m in got), got
    return [m["status"] for m in got]


def test_the_socket_sees_each_status_in_order(
    rig: Rig, api: httpx.Client, user: RegisteredUser, product: dict[str, Any]
) -> None:
    order_id = place(api, user, (product["id"], 1)).json()["id"]
    with rig.websocket("api", f"/ws/orders/{order_id}?token={user.token}") as ws:
        # what it had already is replayed: pending, and reserved if the inventory was that quick
        first = statuses(ws, 1, order_id)
        assert first == ["pending"]
        assert statuses(ws, 1, order_id) == ["reserved"]
        assert api.post(f"/orders/{order_id}/pay", headers=user.headers).status_code == 200
        assert statuses(ws, 1, order_id) == ["paid"]
        assert api.post(f"/orders/{order_id}/fulfil", headers=user.headers).status_code == 200
        assert statuses(ws, 1, order_id) == ["fulfilled"]
        with pytest.raises(TimeoutError):
            ws.recv(timeout=0.3)  # nothing twice


def test_a_late_socket_gets_the_history_then_the_changes(
    rig: Rig, api: httpx.Client, user: RegisteredUser, product: dict[str, Any]
) -> None:
    order_id = place(api, user, (product["id"], 1)).json()["id"]
    wait_for_status(api, user.headers, order_id, "reserved")
    rig.stub("payments").on(post("/charges"), priority=1).reply(402, json={"error": "card_declined"})
    with rig.websocket("api", f"/ws/orders/{order_id}?token={user.token}") as ws:
        assert statuses(ws, 2, order_id) == ["pending", "reserved"]
        assert api.post(f"/orders/{order_id}/pay", headers=user.headers).status_code == 402
        assert statuses(ws, 1, order_id) == ["cancelled"]


def test_two_sockets_on_one_order_both_see_the_change(
    rig: Rig, api: httpx.Client, user: RegisteredUser, product: dict[str, Any]
) -> None:
    order_id = place(api, user, (product["id"], 1)).json()["id"]
    wait_for_status(api, user.headers, order_id, "reserved")
    one = rig.websocket("api", f"/ws/orders/{order_id}?token={user.token}")
    two = rig.websocket("api", f"/ws/orders/{order_id}?token={user.token}")  # closed by the rig after the test
    assert statuses(one, 2, order_id) == statuses(two, 2, order_id) == ["pending", "reserved"]
    assert api.post(f"/orders/{order_id}/pay", headers=user.headers).status_code == 200
    assert statuses(one, 1, order_id) == statuses(two, 1, order_id) == ["paid"]


@pytest.mark.parametrize("token", ["", "not-a-jwt"], ids=["no-token", "bad-token"])
def test_a_socket_without_a_valid_token_is_closed_4401(rig: Rig, token: str) -> None:
    with rig.websocket("api", f"/ws/orders/1?token={token}") as ws, pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


def test_another_users_order_is_closed_4404(
    rig: Rig, api: httpx.Client, register: Callable[..., RegisteredUser], user: RegisteredUser,
    product: dict[str, Any],
) -> None:
    order_id = place(api, user, (product["id"], 1)).json()["id"]
    stranger = register()
    with rig.websocket("api", f"/ws/orders/{order_id}?token={stranger.token}") as ws, \
            pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4404
    assert closed.value.rcvd.reason == f"order {order_id} not found"


def test_a_page_of_another_origin_cannot_open_it(rig: Rig, user: RegisteredUser) -> None:
    with pytest.raises(InvalidStatus) as refused:
        rig.websocket("api", f"/ws/orders/1?token={user.token}", origin="https://evil.example")
    assert refused.value.response.status_code == 403
    # the shop's own page may (stackrig.toml: CORS_ORIGINS = "${web.url}")
    with rig.websocket("api", f"/ws/orders/1?token={user.token}", origin=rig["web"].url) as ws, \
            pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4404  # past the origin check
