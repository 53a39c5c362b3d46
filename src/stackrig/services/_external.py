"""A service someone else runs: this run only refers to it.

Under pytest-xdist the controller runs the servers (postgres, redis) once for
the whole session; each worker's run refers to them through an
`ExternalService` whose attributes point at the worker's *slice* — its own
database, its own Redis database index — so the worker's own app processes
get wired to that slice by the usual `${db.url}` interpolation.
"""

from __future__ import annotations

from typing import ClassVar

from .._record import ServiceInfo
from ..config import ServiceSpec
from ._base import RunContext, Service

__all__ = ["ExternalService"]


class ExternalService(Service):
    kind: ClassVar[str] = "external"

    def __init__(self, spec: ServiceSpec, ctx: RunContext, info: ServiceInfo, url: str) -> None:
        super().__init__(spec, ctx)
        self.info = info
        self._url = url
        self.kind = info.kind  # type: ignore[misc]
        self.source = f"shared ({info.source})" if info.source else "shared"
        self.ready_ms = 0.0

    def wants_ports(self) -> int:
        return 0

    @property
    def port(self) -> int | None:
        return self.info.port

    @property
    def ports(self) -> list[int]:
        return list(self.info.ports)

    @property
    def url(self) -> str:
        return self._url

    def url_for(self, port: int | None) -> str:
        """The slice URL, on `port` (this run's fault proxy) instead of the server's own."""
        if port is None or port == self.info.port:
            return self._url
        return self._url.replace(f":{self.info.port}", f":{port}", 1)

    def attributes(self, port: int | None = None) -> dict[str, str]:
        attrs = dict(self.info.attributes)
        p = port if port is not None else self.public_port
        attrs.update(port=str(p), url=self.url_for(p), direct_url=self._url)
        if self.info.kind == "postgres":
            attrs["database"] = self._url.rsplit("/", 1)[-1].split("?")[0]
        return attrs

    def launch(self) -> None:
        """Nothing to start: the owner runs it."""

    def probe(self) -> None:
        return None

    def log_path(self, index: int = 0):  # type: ignore[no-untyped-def]
        from pathlib import Path

        return Path(self.info.log)

    @property
    def pids(self) -> list[int]:
        return list(self.info.pids)
