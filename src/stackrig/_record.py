"""The record of a running stack: what `status`, `env`, `logs`, `down` and the pytest plugin read.

A run writes ``<project>/.stackrig/runs/<run-id>/state.json``; a stack brought
up by ``stackrig up`` also points ``<project>/.stackrig/current.json`` at it, so
other terminals and test sessions can attach to it in milliseconds.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["ServiceInfo", "RunRecord", "pid_alive"]


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie is not alive
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


@dataclass
class ServiceInfo:
    name: str
    kind: str
    url: str
    host: str
    port: int | None
    ports: list[int] = field(default_factory=list)
    pids: list[int] = field(default_factory=list)
    ready_ms: float | None = None
    log: str = ""
    source: str = ""
    attributes: dict[str, str] = field(default_factory=dict)
    exports: dict[str, str] = field(default_factory=dict)
    proxied: bool = False  # `url` goes through the fault proxy; `attributes["direct_url"]` does not

    @property
    def pid(self) -> int | None:
        return self.pids[0] if self.pids else None


@dataclass
class RunRecord:
    run_id: str
    stack_file: str
    digest: str
    owner_pid: int
    watchdog_pid: int | None
    started_at: float
    ready_ms: float
    services: list[ServiceInfo]
    env: dict[str, str]
    logs_dir: str
    data_dir: str
    control: str = ""  # Unix socket of the owner's control channel
    faults_api: str = ""  # the fault proxy's Toxiproxy-compatible API, when any service is behind it

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunRecord:
        services = [ServiceInfo(**s) for s in data.pop("services")]
        return cls(services=services, **data)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=2))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> RunRecord:
        return cls.from_json(json.loads(path.read_text()))

    def alive(self) -> bool:
        return pid_alive(self.owner_pid)

    def service(self, name: str) -> ServiceInfo | None:
        return next((s for s in self.services if s.name == name), None)
