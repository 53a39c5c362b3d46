"""Registration, login and ``/auth/me``, checked over HTTP and in the database."""

from __future__ import annotations

from typing import Any

import httpx
import jwt
import psycopg
import pytest
from _support import RegisteredUser, assert_error, unique_email

# The JWT_SECRET that stackrig.toml gives the api service.
JWT_SECRET = "test-secret-not-for-production-0123456789"


def test_register_login_me(api: httpx.Client, db: psycopg.Connection[Any]) -> None:
    email = unique_email()
    created = api.post("/auth/register", json={"email": email, "password": "s3cret-pass", "name": "Ada"})
    assert created.status_code == 201, created.text
    assert created.json()["email"] == email
    assert "password" not in created.text and "password_hash" not in created.text

    login = api.post("/auth/login", json={"email": email, "password": "s3cret-pass"})
    assert login.status_code == 200, login.text
    assert login.json()["token_type"] == "bearer"

    me = api.get("/auth/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"})
    assert me.status_code == 200, me.text
    assert me.json()["id"] == created.json()["id"]
    assert (me.json()["email"], me.json()["name"]) == (email, "Ada")

    row = db.execute("SELECT name, password_hash FROM users WHERE email = %s", (email,)).fetchone()
    assert row is not None and row[0] == "Ada"
    assert row[1].startswith("$2b$") and "s3cret-pass" not in row[1]  # a bcrypt hash, not the password


def test_me_without_token_is_401(api: httpx.Client) -> None:
    assert_error(api.get("/auth/me"), 401, "authentication required")


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("Bearer not-a-jwt", "invalid"),
        ("Bearer " + jwt.encode({"sub": "1", "exp": 4_000_000_000}, "x" * 32, algorithm="HS256"), "invalid"),
        ("Bearer " + jwt.encode({"sub": "1"}, JWT_SECRET, algorithm="HS256"), "invalid"),  # no expiry
        ("Bearer " + jwt.encode({"sub": "1", "exp": 1}, JWT_SECRET, algorithm="HS256"), "expired"),
        ("Basic dXNlcjpwYXNz", "authentication required"),
    ],
    ids=["garbage", "wrong-signature", "no-exp", "expired", "not-bearer"],
)
def test_me_with_bad_token_is_401(api: httpx.Client, header: str, reason: str) -> None:
    response = api.get("/auth/me", headers={"Authorization": header})
    assert_error(response, 401, reason)
    assert response.headers["www-authenticate"] == "Bearer"


def test_login_with_wrong_password_or_unknown_email_is_401(api: httpx.Client, user: RegisteredUser) -> None:
    wrong_password = api.post("/auth/login", json={"email": user.email, "password": "wrong password"})
    unknown_email = api.post("/auth/login", json={"email": unique_email(), "password": user.password})
    # Both answer the same, so the API does not reveal which e-mails are registered.
    assert assert_error(wrong_password, 401) == assert_error(unknown_email, 401)


def test_duplicate_email_is_409_and_stores_one_row(
    api: httpx.Client, db: psycopg.Connection[Any], user: RegisteredUser
) -> None:
    again = api.post(
        "/auth/register", json={"email": user.email.upper(), "password": "another-pass", "name": "Twin"}
    )
    assert_error(again, 409, "already exists", user.email)
    count = db.execute("SELECT count(*) FROM users WHERE email = %s", (user.email,)).fetchone()
    assert count == (1,)


def test_email_is_case_insensitive_at_login(api: httpx.Client, user: RegisteredUser) -> None:
    login = api.post("/auth/login", json={"email": user.email.upper(), "password": user.password})
    assert login.status_code == 200, login.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "password": "long-enough", "name": "X"}, "body.email"),
        ({"email": "EMAIL", "password": "short", "name": "X"}, "body.password"),
        ({"email": "EMAIL", "password": "long-enough", "name": "   "}, "body.name"),
        ({"email": "EMAIL", "password": "long-enough"}, "body.name"),
        ({"email": "EMAIL", "password": "é" * 40, "name": "X"}, "body.password"),  # 80 bytes > bcrypt's 72
    ],
    ids=["bad-email", "short-password", "blank-name", "missing-name", "password-over-72-bytes"],
)
def test_invalid_registration_is_422_and_stores_nothing(
    api: httpx.Client, db: psycopg.Connection[Any], body: dict[str, str], field: str
) -> None:
    email = unique_email()
    body = {key: (email if value == "EMAIL" else value) for key, value in body.items()}
    response = api.post("/auth/register", json=body)
    assert_error(response, 422, "validation failed", field)
    assert field in [detail["field"] for detail in response.json()["details"]]
    assert db.execute("SELECT count(*) FROM users WHERE email = %s", (email,)).fetchone() == (0,)


def test_token_of_a_deleted_user_is_401(
    api: httpx.Client, db: psycopg.Connection[Any], user: RegisteredUser
) -> None:
    assert api.get("/auth/me", headers=user.headers).status_code == 200
    db.execute("DELETE FROM users WHERE id = %s", (user.id,))
    assert_error(api.get("/auth/me", headers=user.headers), 401, "no longer exists")
