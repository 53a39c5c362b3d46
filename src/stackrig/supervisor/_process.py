"""One supervised OS process: its own session, its log file, group stop with escalation."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from ._users import ProcessUser

__all__ = ["ManagedProcess", "descendants", "tail"]


def descendants(root: int) -> list[int]:
    """Every live descendant of `root` (children that called setsid() included)."""
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found: list[int] = []
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def tail(path: Path | None, lines: int = 20, max_bytes: int = 16384) -> str:
    """The last `lines` lines of a log file ('' when missing)."""
    if path is None:
        return ""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - max_bytes))
            data = f.read()
    except OSError:
        return ""
    text = data.decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


class ManagedProcess:
    """A child process in its own session, logging to a file, stopped as a group."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path,
        log_path: Path,
        user: ProcessUser | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env)
        self.cwd = cwd
        self.log_path = log_path
        self.user = user
        self.popen: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab", buffering=0) as log:
            if self.user is not None:
                os.chown(self.log_path, self.user.uid, self.user.gid)
            self.started_at = time.monotonic()
            self.popen = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                close_fds=True,
                user=self.user.uid if self.user else None,
                group=self.user.gid if self.user else None,
                extra_groups=[] if self.user else None,
            )

    def poll(self) -> int | None:
        return self.popen.poll() if self.popen else None

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal_group(self, sig: int) -> None:
        if self.popen is None:
            return
        try:
            os.killpg(self.popen.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def group_alive(self) -> bool:
        if self.popen is None:
            return False
        self.popen.poll()  # reap the leader if it exited
        try:
            os.killpg(self.popen.pid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True

    def _wait_leader(self, deadline: float) -> None:
        """Block until the group leader exits or `deadline`: on a pidfd (Linux), so the stop returns
        the moment it is done instead of at the next tick of a sleep loop."""
        assert self.popen is not None
        if self.popen.poll() is not None:
            return
        try:
            fd = os.pidfd_open(self.popen.pid)
        except (AttributeError, OSError):
            return  # no pidfds here: the caller's loop polls
        try:
            poller = select.poll()
            poller.register(fd, select.POLLIN)
            poller.poll(max(0.0, deadline - time.monotonic()) * 1000)
        finally:
            os.close(fd)

    def stop(self, timeout: float = 5.0, sig: int = signal.SIGTERM) -> int | None:
        """SIGTERM the whole group, SIGKILL what is left at the deadline; return the exit code."""
        if self.popen is None:
            return None
        tree = descendants(self.popen.pid)  # before the signal: some leave the group (setsid)
        self.signal_group(sig)
        deadline = time.monotonic() + timeout
        self._wait_leader(deadline)
        delay = 0.0005
        while self.group_alive() and time.monotonic() < deadline:
            time.sleep(delay)
            delay = min(delay * 2, 0.02)
        if self.group_alive():
            self.signal_group(signal.SIGKILL)
            end = time.monotonic() + 5
            while self.group_alive() and time.monotonic() < end:
                time.sleep(0.01)
        for pid in tree:  # anything of the tree that outlived its group
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            return self.popen.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return None
