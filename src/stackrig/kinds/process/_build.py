"""`build = "..."` on a process service: run once before start, cached by what it depends on.

The build's key is the content of every file its `build_inputs` globs match (relative to the
service's folder), the build command itself, and the version of each runtime it names
(``${go}``, ``${npm}``).  When the key matches the last successful build's and every
`build_outputs` glob still matches a file, the build is skipped; otherwise it runs in the
service's folder with the service's environment, its output in ``logs/<service>.build.log``.

Builds of the same service in the same folder never overlap: concurrent runs (pytest-xdist
workers, two terminals) take an exclusive lock beside the cache marker; the first builds, the
others wait for it and then find the build up to date.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import hashlib
import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from ..._paths import cache_dir
from ...errors import BuildFailed
from ...supervisor import tail

__all__ = ["BuildStep", "BUILD_FORMAT"]

BUILD_FORMAT = "1"


class BuildStep:
    def __init__(self, service: str, commands: list[str], cwd: Path, inputs: list[str], outputs: list[str],
                 project: Path, toolchains: dict[str, str], timeout: float, log: Path) -> None:
        self.service = service
        self.commands = commands
        self.cwd = cwd
        self.inputs = inputs
        self.outputs = outputs
        self.project = project
        self.toolchains = toolchains
        self.timeout = timeout
        self.log = log

    def _files(self, patterns: list[str]) -> list[Path]:
        found: set[Path] = set()
        for pattern in patterns:
            for name in glob.glob(str(self.cwd / pattern), recursive=True):
                p = Path(name)
                if p.is_file() and "node_modules" not in p.relative_to(self.cwd).parts[:1]:
                    found.add(p)
        return sorted(found)

    def key(self) -> str:
        h = hashlib.sha256()
        for part in (BUILD_FORMAT, *self.commands, *(f"{k}={v}" for k, v in sorted(self.toolchains.items()))):
            h.update(part.encode() + b"\0")
        for path in self._files(self.inputs):
            h.update(str(path.relative_to(self.cwd)).encode() + b"\0" + path.read_bytes() + b"\0")
        return h.hexdigest()

    def _marker(self) -> Path:
        where = hashlib.sha256(f"{self.project}\0{self.service}\0{self.cwd}".encode()).hexdigest()[:20]
        return cache_dir() / "builds" / f"{where}.json"

    def up_to_date(self, key: str) -> bool:
        try:
            done = json.loads(self._marker().read_text())
        except (OSError, ValueError):
            return False
        if done.get("key") != key:
            return False
        return all(glob.glob(str(self.cwd / pattern), recursive=True) for pattern in self.outputs)

    @contextlib.contextmanager
    def _exclusive(self, deadline: float) -> Iterator[None]:
        """Hold the build's lock (another process's build of the same service: wait for it)."""
        lock = self._marker().with_suffix(".lock")
        lock.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise BuildFailed(
                            f"service '{self.service}': another run's build of it in {self.cwd} did not finish "
                            f"within {self.timeout:g} s", service=self.service, log_path=self.log,
                            hint=f"wait for it, or stop the other run (its lock: {lock})") from None
                    time.sleep(0.05)
            yield
        finally:
            os.close(fd)  # releases the lock

    def run(self, env: dict[str, str]) -> bool:
        """Build unless up to date; True when it ran. Raises BuildFailed with the log's tail."""
        key = self.key()
        if self.up_to_date(key):
            return False
        deadline = time.monotonic() + self.timeout
        with self._exclusive(deadline):
            if self.up_to_date(key):  # another run built it while this one waited
                return False
            self._build(env, key, deadline)
        return True

    def _build(self, env: dict[str, str], key: str, deadline: float) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as out:
            for command in self.commands:
                out.write(f"--- stackrig: build `{command}` in {self.cwd}\n".encode())
                out.flush()
                try:
                    done = subprocess.run(["/bin/sh", "-c", command], cwd=self.cwd, env=env, stdout=out,
                                          stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                                          timeout=max(1.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    raise BuildFailed(f"service '{self.service}': build `{command}` did not finish within "
                                      f"{self.timeout:g} s", service=self.service, log_path=self.log,
                                      log_tail=tail(self.log, 30),
                                      hint="raise `build_timeout`, or look at what the build waits for") from None
                if done.returncode != 0:
                    raise BuildFailed(f"service '{self.service}': build `{command}` failed with exit code "
                                      f"{done.returncode}", service=self.service, log_path=self.log,
                                      log_tail=tail(self.log, 30),
                                      hint="fix the build; it runs again when its inputs change")
        missing = [p for p in self.outputs if not glob.glob(str(self.cwd / p), recursive=True)]
        if missing:
            raise BuildFailed(f"service '{self.service}': the build succeeded but made no {', '.join(missing)} "
                              f"(its `build_outputs`) in {self.cwd}", service=self.service, log_path=self.log,
                              log_tail=tail(self.log, 20), hint="fix `build_outputs`, or the build's output path")
        marker = self._marker()
        marker.parent.mkdir(parents=True, exist_ok=True)
        tmp = marker.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"key": key, "service": self.service, "cwd": str(self.cwd),
                                   "commands": self.commands, "at": time.time()}))
        tmp.replace(marker)
