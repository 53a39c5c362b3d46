"""Initialised PostgreSQL clusters, built once and copied per run.

``initdb`` costs ~0.5 s; copying an initialised cluster and starting
``postgres`` directly costs ~0.09 s.  So clusters are cached under the cache
dir, keyed on everything that shapes them:

* the *base* cluster: server version and path, superuser, encoding/locale;
* the *prepared* cluster: the base plus the database, the password and the
  content of every ``init`` input (SQL files, a command and its declared
  ``init_inputs``).  Changing any input builds a new one.

Builds happen in a scratch folder next to the cache and are moved in
atomically, under a file lock, so concurrent runs build each cluster once.
"""

from __future__ import annotations

import fcntl
import glob
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..._paths import cache_dir
from ...errors import InitFailed, ServiceError
from ...services import Binary
from ...supervisor import ProcessUser

__all__ = ["base_key", "ensure_cluster", "copy_cluster", "chown_tree", "reachable_install", "INIT_FORMAT",
           "claim_spare", "make_spare", "start_spare", "SpareCopy", "init_digest", "run_init_item", "run_initdb"]


def _reachable(path: Path) -> bool:
    """Can any user execute `path` (every parent folder searchable by others)?"""
    for part in [path, *path.parents]:
        try:
            mode = part.stat().st_mode
        except OSError:
            return False
        if part != path and not mode & 0o001:
            return False
    return bool(path.stat().st_mode & 0o001)


def reachable_install(binary: Binary, user: ProcessUser | None) -> Binary:
    """The binary itself, or a world-readable mirror of its installation when the server
    user cannot reach it (a pip wheel under root's 0700 home, say)."""
    if user is None or _reachable(binary.exe):
        return binary
    install = binary.bindir.parent  # <prefix>/bin/postgres -> <prefix>
    # auditwheel'd wheels find their shared libraries in a `<package>.libs` folder beside the
    # package (RPATH $ORIGIN/../../../<package>.libs): mirror that layout too.
    package = install.parent
    libs = package.parent / (package.name + ".libs")
    key = hashlib.sha256(f"{binary.exe}:{binary.version}:{binary.exe.stat().st_mtime}".encode()).hexdigest()[:12]
    mirror = Path("/var/tmp") / f"stackrig-{os.geteuid()}" / f"{package.name}-{key}"
    exe = mirror / package.name / binary.exe.relative_to(package)
    if not exe.exists():
        with _locked(mirror.with_suffix(".lock")):
            if not exe.exists():
                tmp = mirror.with_name(mirror.name + ".tmp")
                shutil.rmtree(tmp, ignore_errors=True)
                (tmp / package.name).mkdir(parents=True)
                os.chmod(tmp.parent, 0o755)
                copy_cluster(install, tmp / package.name / install.name)
                if libs.is_dir():
                    copy_cluster(libs, tmp / libs.name)
                subprocess.run(["chmod", "-R", "a+rX", str(tmp)], check=True)
                tmp.rename(mirror)
    return Binary(binary.name, exe, binary.version, binary.source + " (mirrored for the server user)")

INIT_FORMAT = "4"  # bump when the way clusters are built changes


def chown_tree(path: Path, user: ProcessUser | None) -> None:
    if user is None:
        return
    os.chown(path, user.uid, user.gid)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.lchown(os.path.join(root, name), user.uid, user.gid)


def base_key(binary: Binary, superuser: str) -> str:
    h = hashlib.sha256()
    for part in (INIT_FORMAT, str(binary.exe), str(binary.version), superuser, "UTF8", "C"):
        h.update(part.encode() + b"\0")
    return h.hexdigest()[:16]


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def copy_cluster(src: Path, dst: Path) -> None:
    """Copy a cluster keeping modes and owners (`cp -a` is several times faster than copytree)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["cp", "-a", str(src), str(dst)], capture_output=True, text=True)
    if done.returncode != 0:
        raise OSError(f"copying the cached cluster {src} to {dst} failed: {done.stderr.strip()}")


def _scratch(user: ProcessUser | None) -> Path:
    """A scratch folder the server user can write (the cache may sit in root's home)."""
    base = Path("/dev/shm") if os.access("/dev/shm", os.W_OK) else Path("/tmp")
    path = base / f"stackrig-build-{os.getpid()}-{time.monotonic_ns()}"
    path.mkdir(mode=0o755)
    if user is not None:
        os.chown(path, user.uid, user.gid)
    return path


def ensure_cluster(key: str, build: Callable[[Path], None], *, user: ProcessUser | None,
                   service: str) -> Path:
    """The cached cluster for `key`, building it with `build(scratch_data_dir)` if missing."""
    final = cache_dir() / "pg" / key
    if (final / "PG_VERSION").exists():
        return final
    with _locked(cache_dir() / "pg" / f"{key}.lock"):
        if (final / "PG_VERSION").exists():
            return final
        scratch = _scratch(user)
        data = scratch / "data"
        try:
            build(data)
            final.parent.mkdir(parents=True, exist_ok=True)
            if final.exists():
                shutil.rmtree(final)
            tmp = final.with_name(final.name + ".tmp")
            if tmp.exists():
                shutil.rmtree(tmp)
            copy_cluster(data, tmp)
            tmp.rename(final)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return final


def run_initdb(binary: Binary, data: Path, superuser: str, user: ProcessUser | None, service: str) -> None:
    argv = [str(binary.tool("initdb")), "-D", str(data), "-U", superuser, "-A", "trust", "-E", "UTF8",
            "--locale=C", "--no-sync", "--no-instructions",
            # 1 MB WAL segments: the per-run copy is ~16 MB smaller (the copy dominates start-up)
            "--wal-segsize=1"]
    if binary.version.major < 14:
        argv.remove("--no-instructions")
    done = subprocess.run(argv, capture_output=True, text=True, user=user.uid if user else None,
                          group=user.gid if user else None, extra_groups=[] if user else None,
                          cwd="/", env={**os.environ, "LC_ALL": "C"})
    if done.returncode != 0:
        raise ServiceError(
            f"service '{service}': initdb failed with exit code {done.returncode}",
            service=service, log_tail=(done.stdout + done.stderr)[-3000:],
            hint="check that the server user can write the cache dir (STACKRIG_CACHE_DIR) and /dev/shm",
        )


def init_digest(items: list[str], inputs: list[str], root: Path) -> str:
    """Content hash of everything an `init` depends on."""
    h = hashlib.sha256()
    for item in items:
        h.update(item.encode() + b"\0")
        path = root / item
        if item.endswith(".sql") and path.is_file():
            h.update(path.read_bytes())
    for pattern in inputs:
        for name in sorted(glob.glob(str(root / pattern), recursive=True)):
            p = Path(name)
            if p.is_file():
                h.update(name.encode() + b"\0" + p.read_bytes())
    return h.hexdigest()[:16]


_CALLABLE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")

_CALL = """
import importlib, os, sys
sys.path.insert(0, os.getcwd())
module, _, name = sys.argv[1].partition(":")
getattr(importlib.import_module(module), name)(sys.argv[2])
"""


def run_init_item(item: str, *, root: Path, psql: Path, port: int, superuser: str, database: str,
                  env: dict[str, str], service: str, log: Path, url: str) -> None:
    """Apply one `init`/`seed` entry: a .sql file through psql, `module:function` called with the
    database URL, anything else as a shell command."""
    path = root / item
    if _CALLABLE.match(item) and not item.endswith(".sql"):
        done = subprocess.run([sys.executable, "-c", _CALL, item, url], capture_output=True, text=True, env=env,
                              cwd=root)
        what = f"init callable {item}"
    elif item.endswith(".sql"):
        if not path.is_file():
            raise InitFailed(f"service '{service}': init file {item!r} not found (looked at {path})",
                             service=service, hint="fix the path in `init`; it is relative to the stack file")
        argv = [str(psql), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(port),
                "-U", superuser, "-d", database, "-f", str(path)]
        done = subprocess.run(argv, capture_output=True, text=True, env={**env, "PGCONNECT_TIMEOUT": "10"})
        what = f"init file {item}"
    else:
        done = subprocess.run(["/bin/sh", "-c", item], capture_output=True, text=True, env=env, cwd=root)
        what = f"init command `{item}`"
    with open(log, "a") as f:
        f.write(f"--- stackrig: {what} (exit {done.returncode})\n{done.stdout}{done.stderr}")
    if done.returncode != 0:
        raise InitFailed(
            f"service '{service}': {what} failed with exit code {done.returncode}",
            service=service, log_path=log, log_tail="\n".join((done.stdout + done.stderr).splitlines()[-20:]),
            hint="fix the SQL or command; it runs once against a fresh database and is cached until its inputs change",
        )


# -- spares: the next run's copy, made while this run's tests run --------------------
#
# Copying a cluster costs ~100 ms, almost all of it per-file system calls.  A run that finds a
# spare copy of its cluster claims it with one rename() (atomic, so concurrent runs never share
# one); after its stack is ready it makes the next spare in the background, off the critical
# path.  Spares live beside the run data (tmpfs), at most MAX_SPARES per cluster.

MAX_SPARES = 2
_SPARE_TTL_S = 24 * 3600


def _spares(data_root: Path) -> Path:
    return data_root / "spares"


def spares_enabled() -> bool:
    return os.environ.get("STACKRIG_SPARES", "1") not in ("0", "false", "no", "off")


def claim_spare(data_root: Path, key: str, dst: Path) -> bool:
    """Move a ready spare of cluster `key` to `dst`; False when there is none."""
    if not spares_enabled():
        return False
    folder = _spares(data_root)
    try:
        candidates = sorted(p for p in folder.iterdir() if p.name.startswith(key + ".") and p.suffix != ".tmp")
    except OSError:
        return False
    dst.parent.mkdir(parents=True, exist_ok=True)
    for spare in candidates:
        try:
            spare.rename(dst)
            return True
        except OSError:  # another run took it first
            continue
    return False


class SpareCopy:
    """The next run's copy of a cluster, made by a `cp -a` child while this run starts and runs;
    `finish()` waits for it and publishes it (rename), `cancel()` removes it.  The run waits for
    it at teardown at the latest: nothing of a run outlives it."""

    def __init__(self, proc: subprocess.Popen[bytes], tmp: Path, final: Path) -> None:
        self.proc = proc
        self.tmp = tmp
        self.final = final
        self.done = False

    def finish(self) -> None:
        if self.done:
            return
        self.done = True
        code = self.proc.wait()
        stderr = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
        if self.proc.stderr:
            self.proc.stderr.close()
        if code != 0:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise OSError(f"copying a spare cluster to {self.tmp} failed: {stderr.strip()}")
        try:
            self.tmp.rename(self.final)
        except OSError:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise

    def cancel(self) -> None:
        if self.done:
            return
        self.done = True
        self.proc.kill()
        self.proc.wait()
        if self.proc.stderr:
            self.proc.stderr.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def _copier_alive(tmp: Path) -> bool:
    """Whether the run that names itself in a spare's temporary name (`KEY.PID-NS.tmp`) still runs."""
    try:
        pid = int(tmp.name.rsplit(".", 2)[-2].split("-", 1)[0])
    except (IndexError, ValueError):
        return False
    if pid == os.getpid():
        return False  # this process's own leftover (a cancelled copy)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def start_spare(data_root: Path, key: str, src: Path) -> SpareCopy | None:
    """Start copying cluster `key` into the spares folder (unless enough are there); tidy stale spares."""
    if not spares_enabled():
        return None
    folder = _spares(data_root)
    folder.mkdir(parents=True, exist_ok=True)
    now = time.time()
    mine = 0
    for p in folder.iterdir():
        try:
            # ctime, not mtime: `cp -a` copies the cluster's mtime, so every copy looks as old as the cache
            age = now - p.stat().st_ctime
        except OSError:
            continue
        if p.suffix == ".tmp" and _copier_alive(p):
            continue  # another run's copy in progress: never delete it under its feet
        if age > _SPARE_TTL_S or (p.suffix == ".tmp" and age > 600):
            shutil.rmtree(p, ignore_errors=True)
        elif p.name.startswith(key + ".") and p.suffix != ".tmp":
            mine += 1
    if mine >= MAX_SPARES:
        return None
    name = f"{key}.{os.getpid()}-{time.monotonic_ns()}"
    tmp = folder / (name + ".tmp")
    proc = subprocess.Popen(["cp", "-a", str(src), str(tmp)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, close_fds=True)
    return SpareCopy(proc, tmp, folder / name)


def make_spare(data_root: Path, key: str, src: Path) -> None:
    """Copy cluster `key` into the spares folder now (unless enough are there)."""
    copy = start_spare(data_root, key, src)
    if copy is not None:
        copy.finish()
