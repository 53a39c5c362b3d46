"""GET /health, the WebSocket health check stackrig's readiness probe uses, and the error convention."""

from __future__ import annotations

import json

import httpx

from stackrig import Rig


def test_health_is_ok_while_the_database_is_up(api: httpx.Client) -> None:
    response = api.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_the_websocket_health_check(rig: Rig) -> None:
    # stackrig.toml: ready = { websocket = "/ws/health" } on the api
    with rig.websocket("api", "/ws/health") as ws:
        assert json.loads(ws.recv(timeout=5)) == {"status": "ok"}


def test_every_service_is_healthy(rig: Rig) -> None:
    for name in ("inventory", "shipping"):
        assert rig.http(name).get("/health").json() == {"status": "ok"}, name


def test_unknown_route_uses_the_error_convention(rig: Rig, api: httpx.Client) -> None:
    response = api.get("/no-such-route")
    assert response.status_code == 404
    assert response.json() == {"error": "Not Found"}
    for name, path in (("inventory", "/no-such-route"), ("shipping", "/no-such-route")):
        other = rig.http(name).get(path)
        assert other.status_code == 404 and other.json() == {"error": f"no route GET {path}"}, name
