"""The keys of `kind = "postgres"`."""

from __future__ import annotations

from typing import ClassVar, Literal

from ...config import Scalar, Seconds, ServerSpec

__all__ = ["PostgresSpec"]


class PostgresSpec(ServerSpec, kw_only=True):
    database: str = "app"
    user: str = "postgres"
    password: str | None = None
    settings: dict[str, Scalar] = {}
    init: str | list[str] = []
    seed: str | list[str] = []
    init_inputs: list[str] = []  # globs whose content re-runs a command init when changed
    isolation: Literal["reset", "clone", "transaction", "none"] = "reset"
    reset_timeout: Seconds = 5.0

    attributes: ClassVar[tuple[str, ...]] = ("host", "port", "url", "name", "user", "password", "database")
