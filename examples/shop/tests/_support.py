"""Helpers shared by the shop's tests (plain functions and types, no fixtures)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx


def unique(prefix: str = "t") -> str:
    """A name no other row made in this test has (the data itself is reset after each test)."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def unique_email() -> str:
    return f"{unique('user')}@example.com"


@dataclass(frozen=True)
class RegisteredUser:
    id: int
    email: str
    password: str
    name: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def assert_error(response: httpx.Response, status: int, *words: str) -> str:
    """The response is ``status`` with the shop's error body, whose message contains ``words``."""
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body.get("error"), str) and body["error"], body
    for word in words:
        assert word in body["error"], body
    return str(body["error"])
