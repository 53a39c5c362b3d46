"""Free-port allocation that concurrent runs on one machine never share.

The kernel hands out a free port (bind to port 0); the port is then claimed
with an exclusive ``flock`` on ``<tmp>/stackrig-ports/<port>.lock`` held by the
allocating process for the life of the run.  A second run that is handed the
same port by the kernel (after the first closed its probe socket) finds it
locked and asks again.  Locks die with their process, so nothing goes stale.
"""

from __future__ import annotations

import errno
import fcntl
import os
import socket
from pathlib import Path

from ..errors import PortInUse

__all__ = ["PortLease", "allocate_port", "claim_port"]



def _tmp() -> Path:
    import tempfile  # on first use: the CLI's quick paths never allocate ports

    return Path(tempfile.gettempdir())


class PortLease:
    """A claimed port; `release()` (or process exit) frees the claim."""

    def __init__(self, port: int, fd: int) -> None:
        self.port = port
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __repr__(self) -> str:
        return f"PortLease({self.port})"


def _lock_dir() -> Path:
    """The lock folder every user shares (sticky, world-writable, like /tmp itself)."""
    lock_dir = _tmp() / "stackrig-ports"
    try:
        lock_dir.mkdir(exist_ok=True)
        if lock_dir.stat().st_uid == os.geteuid():
            os.chmod(lock_dir, 0o1777)  # mkdir's mode is cut by the umask
    except OSError:
        pass
    return lock_dir


def _open_lock(port: int) -> int:
    path = _lock_dir() / f"{port}.lock"
    try:
        # flock needs no write access: read-only, so locks another user created work too
        fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o666)
    except PermissionError:
        # a lock folder another account made without write access for us: our own, per user
        # (runs of different users could then meet on one port; the bind check still catches that)
        private = _tmp() / f"stackrig-ports-{os.geteuid()}"
        private.mkdir(mode=0o700, exist_ok=True)
        return os.open(private / f"{port}.lock", os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        if os.fstat(fd).st_uid == os.geteuid():
            os.fchmod(fd, 0o666)
    except OSError:
        pass
    return fd


def _lock(port: int) -> int | None:
    fd = _open_lock(port)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            return None
        raise
    return fd


def _bindable(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def allocate_port(host: str = "127.0.0.1", attempts: int = 200) -> PortLease:
    """A free port on `host`, claimed for this process."""
    for _ in range(attempts):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((host, 0))
            port: int = s.getsockname()[1]
        fd = _lock(port)
        if fd is None:
            continue
        if not _bindable(port, host):  # taken between our probe and the lock
            os.close(fd)
            continue
        return PortLease(port, fd)
    raise OSError(f"could not find a free port on {host} after {attempts} attempts")


def claim_port(port: int, *, service: str, host: str = "127.0.0.1") -> PortLease:
    """Claim a fixed port from the stack file, or raise :class:`PortInUse`."""
    fd = _lock(port)
    if fd is None:
        raise PortInUse(port, service=service, hint="another stackrig run holds it; stop that run, "
                        "or remove the fixed `port` so stackrig allocates one")
    if not _bindable(port, host):
        os.close(fd)
        raise PortInUse(port, service=service)
    return PortLease(port, fd)
