"""The keys of `kind = "redis"`."""

from __future__ import annotations

from typing import Literal

from ...config import Scalar, ServerSpec

__all__ = ["RedisSpec"]


class RedisSpec(ServerSpec, kw_only=True):
    config: dict[str, Scalar] = {}
    isolation: Literal["flush", "none"] = "flush"
