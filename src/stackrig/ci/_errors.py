"""The CI engine's errors: what cannot be generated, or a shard that cannot be parsed."""

from __future__ import annotations

from ..errors import StackrigError

__all__ = ["CiError", "ShardError"]


class CiError(StackrigError):
    """A pipeline that cannot be written: the file exists, an option is unusable, the project is unreadable."""


class ShardError(CiError, ValueError):
    """A ``K/N`` shard that is not one: not two whole numbers, N below 1, K outside 1..N."""
