"""`kind = "redis"`: redis-server or valkey-server, no persistence."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from .._probes import LogProbe, Probe
from ..config import RedisSpec
from ..providers import find_binary
from ._base import Service

__all__ = ["RedisService"]

# `databases 256`: one database index per pytest-xdist worker, with room to spare.
DEFAULT_CONFIG = {"save": "", "appendonly": "no", "protected-mode": "no", "daemonize": "no", "databases": "256"}


class RedisService(Service):
    kind: ClassVar[str] = "redis"
    spec: RedisSpec

    def url_for(self, port: int | None) -> str:
        return f"redis://{self.host}:{port}/0" if port else ""

    def default_probe(self) -> Probe:
        return LogProbe(r"Ready to accept connections")

    def prepare(self, deadline: float) -> None:
        self.binary = find_binary("redis", service=self.name, version=self.spec.version,
                                  path=self.spec.path, root=self.ctx.stack_root)
        self.source = f"{self.binary.source} {self.binary.version}"
        self.data = self.ctx.data_dir / self.name
        self.data.mkdir(parents=True, exist_ok=True)

    def launch(self) -> None:
        assert self.port is not None
        argv = [str(self.binary.exe), "--port", str(self.port), "--bind", self.host, "--dir", str(self.data)]
        config = dict(DEFAULT_CONFIG)
        config.update({k: ("yes" if v else "no") if isinstance(v, bool) else str(v)
                       for k, v in self.spec.config.items()})
        for key, value in config.items():
            argv += [f"--{key}", value]
        self.spawn(argv, self.base_env(), Path("/"), self.port)
