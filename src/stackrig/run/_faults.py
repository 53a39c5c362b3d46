"""The run's fault proxy: one process in front of every service that asks for it (`faults = true`)."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from ..errors import ServiceError
from ..services import RunContext, Service
from ..supervisor import MARKER_ENV, HttpProbe, ManagedProcess, PortLease, ProbeTarget, allocate_port, tail, wait_ready

__all__ = ["FaultProxy"]


class FaultProxy:
    """Gives each faulted service a public port (its `url` for others) relayed to its own port."""

    def __init__(self, ctx: RunContext, cwd: Path) -> None:
        self.ctx = ctx
        self.cwd = cwd
        self.process: ManagedProcess | None = None
        self.api_lease: PortLease | None = None
        self.api = ""

    def start(self, services: list[Service], deadline_s: float = 30.0) -> str:
        """Start the proxy for `services` (each gets `service.public`); return its API URL."""
        proxies = []
        for service in services:
            service.public = allocate_port()
            proxies.append({"name": service.name, "listen": f"127.0.0.1:{service.public.port}",
                            "upstream": f"127.0.0.1:{service.port}", "enabled": True})
        config = self.ctx.data_dir / "faults.json"
        config.write_text(json.dumps(proxies, indent=2))
        api = self.api_lease = allocate_port()
        proc = self.process = ManagedProcess(
            "faults", [sys.executable, "-m", "stackrig.faults", "--api-port", str(api.port), "--config", str(config)],
            env={**os.environ, MARKER_ENV: self.ctx.run_id}, cwd=self.cwd, log_path=self.ctx.logs_dir / "faults.log")
        with self.ctx.lock:
            proc.start()
            self.ctx.register(proc)
        ok, code = wait_ready(HttpProbe("/version"), ProbeTarget("127.0.0.1", api.port, proc.log_path),
                              deadline=time.monotonic() + deadline_s, exited=proc.poll)
        if not ok:
            raise ServiceError(f"the fault proxy did not start (exit code {code})" if code is not None
                               else f"the fault proxy was not ready after {deadline_s:g} s", service="faults",
                               log_path=proc.log_path, log_tail=tail(proc.log_path))
        self.api = f"http://127.0.0.1:{api.port}"
        return self.api

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop(5)
            self.ctx.unregister(self.process)
        if self.api_lease is not None:
            self.api_lease.release()
