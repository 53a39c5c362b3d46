"""Security gates on the running stack: CORS from configuration, the Redis-backed rate limit on
logins, one user never reading another's order, and stackrig's security scan finding nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
import redis
from _support import RegisteredUser, assert_error, place, wait_for_status

from stackrig import Rig

EVIL = "https://evil.example"


def test_cors_allows_the_shops_page_only(rig: Rig, api: httpx.Client) -> None:
    page = rig["web"].url  # stackrig.toml: CORS_ORIGINS = "${web.url}"
    allowed = api.get("/products", headers={"Origin": page})
    assert allowed.headers["access-control-allow-origin"] == page
    assert "access-control-allow-credentials" not in allowed.headers  # tokens, not cookies
    preflight = api.options("/orders", headers={"Origin": page, "Access-Control-Request-Method": "POST",
                                                "Access-Control-Request-Headers": "authorization, content-type"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == page
    assert "POST" in preflight.headers["access-control-allow-methods"]

    other = api.get("/products", headers={"Origin": EVIL})
    assert other.status_code == 200 and "access-control-allow-origin" not in other.headers
    refused = api.options("/orders", headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"})
    assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers
    assert "access-control-allow-origin" not in api.get("/products", headers={"Origin": "null"}).headers


def test_failed_logins_are_limited_with_retry_after(
    api: httpx.Client, cache: redis.Redis, user: RegisteredUser
) -> None:
    wrong = {"email": user.email, "password": "not the password"}
    for _ in range(5):  # LOGIN_MAX_FAILURES
        assert_error(api.post("/auth/login", json=wrong), 401, "invalid e-mail or password")
    limited = api.post("/auth/login", json=wrong)
    assert_error(limited, 429, "too many failed logins")
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    # the right password too, until the window has passed: that is the point
    assert_error(api.post("/auth/login", json={"email": user.email, "password": user.password}), 429)
    assert cache.get(f"login-failures:email:{user.email}") == "5"  # in Redis, which stackrig flushes after the test
    assert 0 < cache.ttl(f"login-failures:email:{user.email}") <= 60


def test_a_successful_login_clears_the_count(api: httpx.Client, user: RegisteredUser) -> None:
    wrong = {"email": user.email, "password": "not the password"}
    for _ in range(4):
        assert api.post("/auth/login", json=wrong).status_code == 401
    assert api.post("/auth/login", json={"email": user.email, "password": user.password}).status_code == 200
    for _ in range(4):
        assert api.post("/auth/login", json=wrong).status_code == 401  # counting from 0 again


def test_guessing_many_e_mails_from_one_address_is_limited(api: httpx.Client) -> None:
    for n in range(20):  # LOGIN_MAX_FAILURES_PER_IP
        assert api.post("/auth/login", json={"email": f"guess{n}@example.com", "password": "x"}).status_code == 401
    assert_error(api.post("/auth/login", json={"email": "guess99@example.com", "password": "x"}), 429)


def test_one_user_cannot_read_or_touch_another_users_order(
    rig: Rig, api: httpx.Client, register: Callable[..., RegisteredUser], user: RegisteredUser,
    product: dict[str, Any],
) -> None:
    order_id = place(api, user, (product["id"], 1)).json()["id"]
    wait_for_status(api, user.headers, order_id, "reserved")
    mallory = register(name="Mallory")
    for method, path in (("GET", ""), ("POST", "/pay"), ("POST", "/fulfil")):
        # 404, not 403: the order's existence is not revealed either
        assert_error(api.request(method, f"/orders/{order_id}{path}", headers=mallory.headers), 404, "not found")
    assert_error(api.get(f"/orders/{order_id}"), 401)
    owner = api.get(f"/orders/{order_id}", headers=user.headers).json()
    assert (owner["status"], owner["user_id"]) == ("reserved", user.id)


@pytest.mark.slow
def test_the_security_scan_finds_nothing(rig: Rig, api: httpx.Client, user: RegisteredUser) -> None:
    """`stackrig scan api`: Schemathesis over the OpenAPI schema for 5xx, plus SQL injection, XSS,
    path traversal, CORS, missing authentication and the login rate limit — nothing found, not even
    low (the CLI's default --fail-on is high).  Small: 10 examples per operation, 1 s SQL sleeps."""
    result = rig.scan("api", auth=f"Authorization: Bearer {user.token}", max_examples=10, delay=1, seed=1,
                      jwt_secret="test-secret-not-for-production-0123456789")
    assert result.findings == [], result.render()
