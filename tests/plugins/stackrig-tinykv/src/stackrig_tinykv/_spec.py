"""The keys of `kind = "tinykv"`: the keys of every server kind (`version`, `path`, `port`, ...) and one more."""

from __future__ import annotations

from typing import Annotated, ClassVar

import msgspec

from stackrig.config import ServerSpec

__all__ = ["TinyKvSpec"]


class TinyKvSpec(ServerSpec, kw_only=True):
    max_keys: Annotated[int, msgspec.Meta(ge=1)] = 10_000  # per namespace: a SET beyond it fails

    # what `${kv.<attr>}` may name: the attributes every service has, and the namespace
    attributes: ClassVar[tuple[str, ...]] = (*ServerSpec.attributes, "namespace")
