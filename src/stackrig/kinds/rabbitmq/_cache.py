"""Small helpers for what the kind caches: file locks, scratch folders, copies."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["locked", "scratch", "copy_tree", "publish"]


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock on `path` (concurrent runs build each cached thing once)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def scratch(what: str) -> Path:
    """A fresh folder on tmpfs when there is one (builds are many small writes).  Folders a killed
    build left behind (their process is gone) are removed first."""
    base = Path("/dev/shm") if os.access("/dev/shm", os.W_OK) else Path("/tmp")
    for stale in base.glob("stackrig-rmq-*-*-*"):
        try:
            pid = int(stale.name.rsplit("-", 2)[1])
        except (ValueError, IndexError):
            continue
        if pid != os.getpid() and not _alive(pid):
            shutil.rmtree(stale, ignore_errors=True)
    path = base / f"stackrig-rmq-{what}-{os.getpid()}-{time.monotonic_ns()}"
    path.mkdir(mode=0o700)
    return path


def copy_tree(src: Path, dst: Path) -> None:
    """`cp -a` (several times faster than shutil.copytree for many small files)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["cp", "-a", str(src), str(dst)], capture_output=True, text=True)
    if done.returncode != 0:
        raise OSError(f"copying {src} to {dst} failed: {done.stderr.strip()}")


def publish(built: Path, final: Path) -> None:
    """Move a finished build into the cache atomically (a copy beside it, then one rename)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f"{final.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    copy_tree(built, tmp)
    if final.exists():
        shutil.rmtree(final)
    tmp.rename(final)
