"""Helpers for stackrig's own tests (importable as `helpers`)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

PROGRAMS = Path(__file__).parent / "programs"
REPO = Path(__file__).resolve().parent.parent


_GUARD: Any = None


def guard(proc: subprocess.Popen[Any]) -> subprocess.Popen[Any]:
    """Put a server a fixture starts by hand (in its own session: `start_new_session=True`) under
    stackrig's own watchdog, one per pytest process: when pytest is killed before the fixture's
    teardown runs (SIGTERM, SIGKILL, a CI time-out), the watchdog still stops it."""
    global _GUARD
    if _GUARD is None:
        import atexit

        from stackrig.supervisor import Watchdog

        _GUARD = Watchdog(f"tests-{os.getpid()}-{os.urandom(3).hex()}")
        atexit.register(_GUARD.close)  # a normal end: every fixture stopped its own
    _GUARD.watch(proc.pid)
    return proc


def unguard(proc: subprocess.Popen[Any]) -> None:
    """The fixture stopped `proc` itself: the watchdog forgets its group (whose id may be reused)."""
    if _GUARD is not None:
        _GUARD.forget(proc.pid)


def system_binary(spec: Any) -> Path | None:
    """The system package's executable for `spec` that stackrig would use here, or None: the machine
    has none (a fresh one with only Python), or STACKRIG_PROVIDERS leaves the system out.  Tests
    about a system-only server (mosquitto, RabbitMQ) or a Debian build's exact version skip then."""
    from stackrig.services import candidates

    return next((exe for exe, source in candidates(spec) if source == "system"), None)


def marked_pids(run_id: str) -> list[int]:
    """Processes whose environment carries this run's marker."""
    marker = f"STACKRIG_RUN_ID={run_id}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if marker in f.read().split(b"\0"):
                    with open(f"/proc/{entry}/stat") as st:
                        if st.read().split(")")[-1].split()[0] != "Z":
                            found.append(int(entry))
        except OSError:
            continue
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def wait_until(check: Callable[[], bool], timeout: float = 20.0) -> bool:
    """Poll `check` until true or `timeout`; a bound on waiting, not a speed assertion."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.02)
    return check()



def run_cli(*args: str, cwd: Path, timeout: float = 120, env: dict[str, str] | None = None,
            ) -> subprocess.CompletedProcess[str]:
    """Run the real `stackrig` CLI in a subprocess."""
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    full_env.pop("STACKRIG_STATE", None)
    return subprocess.run([sys.executable, "-m", "stackrig.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env=full_env)


def group_members(pgid: int) -> list[int]:
    """Live processes whose process group is `pgid`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().split(")")[-1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            found.append(int(entry))
    return found


def leftovers(run_id: str, pids: list[int], tree: list[int] | None = None) -> list[int]:
    """Anything of a run still alive: marked processes, members of its process groups, a known tree."""
    live = {p for p in (tree or []) if alive(p)}
    return sorted(set(marked_pids(run_id)) | {p for g in pids for p in group_members(g)} | live)


def tree_of(pids: list[int]) -> list[int]:
    """The pids and all their descendants, now."""
    from stackrig.supervisor import descendants

    return sorted({*pids, *(d for p in pids for d in descendants(p))})
