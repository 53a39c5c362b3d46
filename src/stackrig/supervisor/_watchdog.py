"""A tiny guardian process: when its parent dies, it stops what the parent started.

The parent writes ``+PGID`` / ``-PGID`` lines on the watchdog's stdin as it
starts and stops process groups.  When stdin reaches EOF — the parent exited,
crashed or was SIGKILLed — the watchdog sends SIGTERM to every registered
group, SIGKILL after a grace period, and finally sweeps ``/proc`` for any
process whose environment carries the run's marker (double-forked daemons
that left the group).  It runs with ``python -I -S`` and imports nothing from
stackrig, so it starts in a few milliseconds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from typing import IO

__all__ = ["Watchdog", "MARKER_ENV", "sweep_marked"]

MARKER_ENV = "STACKRIG_RUN_ID"

_SOURCE = r'''
import os, shutil, signal, sys, time
marker = sys.argv[1].encode()
grace = float(sys.argv[2])
folders = sys.argv[3:]
groups = set()
for raw in sys.stdin.buffer:
    line = raw.strip()
    if line[:1] == b"+": groups.add(int(line[1:]))
    elif line[:1] == b"-": groups.discard(int(line[1:]))
    elif line == b"exit": sys.exit(0)
def alive(g):
    try: os.killpg(g, 0); return True
    except OSError: return False
kids = {}
for e in os.listdir("/proc"):
    if e.isdigit():
        try:
            with open("/proc/%s/stat" % e, "rb") as f:
                ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
            kids.setdefault(ppid, []).append(int(e))
        except (OSError, ValueError, IndexError): pass
tree, todo = [], list(groups)
while todo:
    for c in kids.get(todo.pop(), []):
        tree.append(c); todo.append(c)
for g in groups:
    try: os.killpg(g, signal.SIGTERM)
    except OSError: pass
end = time.monotonic() + grace
while time.monotonic() < end and any(alive(g) for g in groups): time.sleep(0.02)
for g in groups:
    try: os.killpg(g, signal.SIGKILL)
    except OSError: pass
for p in tree:
    try: os.kill(p, signal.SIGKILL)
    except OSError: pass
me = os.getpid()
for pid in os.listdir("/proc"):
    if not pid.isdigit() or int(pid) == me: continue
    try:
        with open("/proc/%s/environ" % pid, "rb") as f: env = f.read().split(b"\0")
    except OSError: continue
    if marker in env:
        try: os.kill(int(pid), signal.SIGKILL)
        except OSError: pass
if folders:
    time.sleep(0.1)
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
'''


def sweep_marked(run_id: str, sig: int = signal.SIGKILL) -> list[int]:
    """Signal every process whose environment has ``STACKRIG_RUN_ID=<run_id>``; return their pids."""
    marker = f"{MARKER_ENV}={run_id}".encode()
    me = os.getpid()
    hit: list[int] = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return hit
    for entry in entries:
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        if marker in env:
            try:
                os.kill(int(entry), sig)
                hit.append(int(entry))
            except OSError:
                pass
    return hit


class Watchdog:
    """Handle on the guardian process of one run."""

    def __init__(self, run_id: str, grace: float = 3.0, data_dir: str = "", folders: Sequence[str] = ()) -> None:
        """`data_dir` and `folders`: the run's data and sockets, removed when the watchdog has to clean up."""
        remove = [f for f in (data_dir, *folders) if f]
        self._proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _SOURCE, f"{MARKER_ENV}={run_id}", str(grace), *remove],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C to the terminal's group must not kill it
            close_fds=True,
        )
        assert self._proc.stdin is not None
        self._pipe: IO[bytes] = self._proc.stdin

    @property
    def pid(self) -> int:
        return self._proc.pid

    def _send(self, line: str) -> None:
        try:
            self._pipe.write(line.encode() + b"\n")
            self._pipe.flush()
        except (BrokenPipeError, ValueError):
            pass

    def watch(self, pgid: int) -> None:
        self._send(f"+{pgid}")

    def forget(self, pgid: int) -> None:
        self._send(f"-{pgid}")

    def close(self) -> None:
        """Normal end of run: everything was stopped already; let the watchdog exit."""
        self._send("exit")
        try:
            self._pipe.close()
        except OSError:
            pass
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
