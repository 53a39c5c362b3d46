"""The keys of `kind = "toxiproxy"`: the API port and the proxies it starts with."""

from __future__ import annotations

import re
from typing import ClassVar

from ...config import Port, ServiceSpec, SpecError

__all__ = ["ToxiproxySpec"]

_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


class ToxiproxySpec(ServiceSpec, kw_only=True):
    """`proxies = { redis = "127.0.0.1:${cache.port}" }`: each listens on an allocated port,
    ``${toxiproxy.listen.redis}``; tests break them through the Toxiproxy API at ``${url}``."""

    port: Port | None = None  # the API's port (allocated when not given)
    proxies: dict[str, str] = {}  # name -> upstream host:port

    attributes: ClassVar[tuple[str, ...]] = ("host", "port", "url", "name")
    interpolated: ClassVar[tuple[str, ...]] = ("env", "export", "proxies")

    def __post_init__(self) -> None:
        for name, upstream in self.proxies.items():
            if not _NAME.match(name):
                raise SpecError("proxies", f"proxy name {name!r} is not valid: letters, digits, '.', '_' and '-'")
            if ":" not in upstream:
                raise SpecError("proxies", f"proxy {name!r}: upstream {upstream!r} is not host:port")

    def attribute_names(self) -> tuple[str, ...]:
        return (*self.attributes, *(f"listen.{name}" for name in self.proxies))
