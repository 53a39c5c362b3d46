"""`kind = "toxiproxy"`: stackrig's Toxiproxy-compatible fault server as a service of the stack.

``python -m stackrig.faults --api-port N --config proxies.json``: the API on the service's port,
each declared proxy on one more allocated port (``${listen.NAME}``), its upstream resolved like
any ``${...}`` value.  Code that drives Toxiproxy (toxiproxy-python, the Go and Node clients, curl)
works unchanged against ``${url}``.
"""

from __future__ import annotations

import json
import sys

from ...services import Service
from ...supervisor import HttpProbe, Probe
from ._spec import ToxiproxySpec

__all__ = ["ToxiproxyService"]


class ToxiproxyService(Service):
    spec: ToxiproxySpec

    def wants_ports(self) -> int:
        return 1 + len(self.spec.proxies)

    def attributes(self, port: int | None = None) -> dict[str, str]:
        attrs = super().attributes(port)
        for i, name in enumerate(self.spec.proxies, start=1):
            attrs[f"listen.{name}"] = str(self.ports[i]) if len(self.ports) > i else ""
        return attrs

    def default_probe(self) -> Probe:
        return HttpProbe("/version")

    def launch(self) -> None:
        assert self.port is not None
        folder = self.ctx.data_dir / self.name
        folder.mkdir(parents=True, exist_ok=True)
        proxies = [{"name": name, "listen": f"{self.host}:{self.ports[i]}",
                    "upstream": self.resolve(upstream, f"proxies.{name}"), "enabled": True}
                   for i, (name, upstream) in enumerate(self.spec.proxies.items(), start=1)]
        config = folder / "proxies.json"
        config.write_text(json.dumps(proxies))
        argv = [sys.executable, "-m", "stackrig.faults", "--api-port", str(self.port), "--config", str(config)]
        self.spawn(argv, self.base_env(), self.ctx.stack_root, self.port)
