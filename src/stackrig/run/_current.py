"""The stack that `stackrig up` keeps running for a project, and how to find or stop it.

Light on imports: `stackrig status` and `stackrig env` read this on every call."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from .._paths import runtime_root
from ._record import RunRecord, pid_alive

__all__ = ["current_path", "read_current", "write_current", "clear_current", "stop_owner", "latest_run"]


def current_path(project_dir: Path) -> Path:
    return runtime_root(project_dir) / "current.json"


def read_current(project_dir: Path, digest: str | None = None) -> RunRecord | None:
    """The running `up` stack of this project (matching `digest` when given), or None."""
    path = current_path(project_dir)
    try:
        pointer = json.loads(path.read_text())
        record = RunRecord.load(Path(pointer["state"]))
    except (OSError, ValueError, TypeError, KeyError):
        return None
    if not record.alive():
        clear_current(project_dir, record.run_id)
        return None
    if digest is not None and record.digest != digest:
        return None
    return record


def write_current(project_dir: Path, state: Path, run_id: str) -> None:
    """Point `current.json` at a run's state file (which the owner keeps up to date)."""
    path = current_path(project_dir)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"run_id": run_id, "state": str(state)}))
    tmp.replace(path)


def clear_current(project_dir: Path, run_id: str | None = None) -> None:
    path = current_path(project_dir)
    try:
        if run_id is not None and json.loads(path.read_text()).get("run_id") != run_id:
            return
        path.unlink()
    except (OSError, ValueError):
        pass


def stop_owner(record: RunRecord, timeout: float = 60.0) -> bool:
    """Ask the process that owns a stack to tear it down; wait for it. True if it stopped."""
    import signal

    if pid_alive(record.owner_pid):
        try:
            os.kill(record.owner_pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + timeout
        while pid_alive(record.owner_pid) and time.monotonic() < deadline:
            time.sleep(0.02)
    from ..supervisor import sweep_marked

    stopped = not pid_alive(record.owner_pid)
    if not stopped:
        os.kill(record.owner_pid, signal.SIGKILL)  # its watchdog stops the services
        time.sleep(0.2)
    sweep_marked(record.run_id)
    return stopped


def latest_run(project_dir: Path) -> RunRecord | None:
    """The most recent run's record (running or not), for `logs` after the fact."""
    runs = runtime_root(project_dir) / "runs"
    try:
        states = sorted(runs.glob("*/state.json"), key=lambda p: p.stat().st_mtime)
    except OSError:
        return None
    for path in reversed(states):
        try:
            return RunRecord.load(path)
        except (OSError, ValueError, TypeError, KeyError):
            continue
    return None
