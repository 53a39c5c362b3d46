"""GET /health."""

from __future__ import annotations

import httpx


def test_health_is_ok_while_the_database_is_up(api: httpx.Client) -> None:
    response = api.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_unknown_route_uses_the_error_convention(api: httpx.Client) -> None:
    response = api.get("/no-such-route")
    assert response.status_code == 404
    assert response.json() == {"error": "Not Found"}
