"""The stack that `stackrig up` keeps running for a project, and how to find or stop it.

Light on imports (os paths, no pathlib, no `json` for reading): `stackrig status` and
`stackrig env` read this on every call.
"""

from __future__ import annotations

import os
import time

from .._paths import RUNTIME_DIR
from ._record import RunRecord, loads, pid_alive

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["current_path", "read_current", "write_current", "clear_current", "stop_owner", "latest_run"]



def current_path(project_dir: str | os.PathLike[str]) -> str:
    return os.path.join(os.fspath(project_dir), RUNTIME_DIR, "current.json")


def _pointer(project_dir: str | os.PathLike[str]) -> dict[str, str] | None:
    try:
        with open(current_path(project_dir)) as f:
            data = loads(f.read())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def read_current(project_dir: str | os.PathLike[str], digest: str | None = None) -> RunRecord | None:
    """The running `up` stack of this project (matching `digest` when given), or None."""
    pointer = _pointer(project_dir)
    if pointer is None:
        return None
    try:
        record = RunRecord.load(pointer["state"])
    except (OSError, ValueError, TypeError, KeyError):
        return None
    if not record.alive():
        clear_current(project_dir, record.run_id)
        return None
    if digest is not None and record.digest != digest:
        return None
    return record


def write_current(project_dir: str | os.PathLike[str], state: str | os.PathLike[str], run_id: str) -> None:
    """Point `current.json` at a run's state file (which the owner keeps up to date)."""
    import json

    path = current_path(project_dir)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        f.write(json.dumps({"run_id": run_id, "state": os.fspath(state)}))
    os.replace(tmp, path)


def clear_current(project_dir: str | os.PathLike[str], run_id: str | None = None) -> None:
    pointer = _pointer(project_dir)
    if pointer is None or (run_id is not None and pointer.get("run_id") != run_id):
        return
    try:
        os.unlink(current_path(project_dir))
    except OSError:
        pass


def stop_owner(record: RunRecord, timeout: float = 60.0) -> bool:
    """Ask the process that owns a stack to tear it down; wait for it. True if it stopped."""
    import signal

    from ..supervisor import sweep_marked

    if pid_alive(record.owner_pid):
        try:
            os.kill(record.owner_pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + timeout
        while pid_alive(record.owner_pid) and time.monotonic() < deadline:
            time.sleep(0.02)
    stopped = not pid_alive(record.owner_pid)
    if not stopped:
        os.kill(record.owner_pid, signal.SIGKILL)  # its watchdog stops the services
        time.sleep(0.2)
    sweep_marked(record.run_id)
    return stopped


def latest_run(project_dir: Path | str) -> RunRecord | None:
    """The most recent run's record (running or not), for `logs` after the fact."""
    runs = os.path.join(os.fspath(project_dir), RUNTIME_DIR, "runs")
    try:
        states = [os.path.join(runs, d, "state.json") for d in os.listdir(runs)]
        states = sorted((s for s in states if os.path.exists(s)), key=os.path.getmtime)
    except OSError:
        return None
    for path in reversed(states):
        try:
            return RunRecord.load(path)
        except (OSError, ValueError, TypeError, KeyError):
            continue
    return None
