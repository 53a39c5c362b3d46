"""A service someone else runs: this run only refers to it.

Under pytest-xdist the controller runs each server whose kind can be shared (it has a
slicer) once for the whole session; each worker's run refers to it through an
`ExternalService` whose attributes point at the worker's *slice* — its own database, its
own Redis database index — so the worker's own app processes get wired to that slice by the
usual `${db.url}` interpolation.
"""

from __future__ import annotations

from pathlib import Path

from ..config import ServiceSpec
from ..services import RunContext, Service, Slice
from ..supervisor import Probe
from ._record import ServiceInfo

__all__ = ["ExternalService"]


class ExternalService(Service):
    def __init__(self, spec: ServiceSpec, ctx: RunContext, info: ServiceInfo, share: Slice) -> None:
        super().__init__(spec, ctx)
        self.info = info
        self.share = share
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
        return self.share.url

    def url_for(self, port: int | None) -> str:
        """The slice URL, on `port` (this run's fault proxy) instead of the server's own."""
        if port is None or port == self.info.port:
            return self.share.url
        return self.share.url.replace(f":{self.info.port}", f":{port}", 1)

    def attributes(self, port: int | None = None) -> dict[str, str]:
        attrs = dict(self.info.attributes)
        attrs.update(self.share.attributes)
        p = port if port is not None else self.public_port
        if p is not None and p != self.info.port:  # this run's fault proxy: others' URLs go through it
            server = f"127.0.0.1:{self.info.port}"
            attrs.update({k: v.replace(server, f"127.0.0.1:{p}", 1) for k, v in attrs.items()
                          if "://" in v and not k.startswith("direct_url")})
        attrs.update(port=str(p), url=self.url_for(p), direct_url=self.share.url)
        return attrs

    def launch(self) -> None:
        """Nothing to start: the owner runs it."""

    def probe(self) -> Probe | None:
        return None

    def log_path(self, index: int = 0) -> Path:
        return Path(self.info.log)

    @property
    def pids(self) -> list[int]:
        return list(self.info.pids)

    def describe_version(self) -> str:
        return self.info.version
