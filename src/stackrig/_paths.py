"""Where stackrig keeps caches, run records, run data and sockets."""

from __future__ import annotations

import os

TYPE_CHECKING = False  # pathlib is imported where a path is made: `stackrig status` needs none of it
if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["RUNTIME_DIR", "cache_dir", "runtime_root", "data_root", "socket_root"]

RUNTIME_DIR = ".stackrig"  # in the project: run records and logs

# A Unix socket path holds at most 107 bytes (sun_path), so sockets never go under the project
# or the data folder, which may be deep (CI workspaces); they go here.
_SOCKET_BASE = "/tmp"


def cache_dir() -> Path:
    """Long-lived caches (initialised clusters, versions): ``STACKRIG_CACHE_DIR`` or the user cache dir."""
    env = os.environ.get("STACKRIG_CACHE_DIR")
    if env:
        from pathlib import Path

        return Path(env)
    from platformdirs import user_cache_path

    return user_cache_path("stackrig")


def _tmpfs() -> Path | None:
    from pathlib import Path

    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        return shm
    return None


def data_root(setting: str, project_dir: Path) -> Path:
    """The folder run data (database files) goes in, from the `[stackrig] data_dir` setting."""
    from pathlib import Path

    override = os.environ.get("STACKRIG_DATA_DIR")
    if override:
        setting = override
    base: Path | None
    if setting in ("auto", "tmpfs"):
        base = _tmpfs()
        if base is None:
            if setting == "tmpfs":
                from .errors import ConfigError

                raise ConfigError('`data_dir = "tmpfs"` but /dev/shm is not available',
                                  hint='use data_dir = "auto" or "disk"')
            import tempfile

            base = Path(tempfile.gettempdir())
    elif setting == "disk":
        base = project_dir / ".stackrig" / "data"
        base.mkdir(parents=True, exist_ok=True)
        return base
    else:
        base = Path(os.path.expanduser(setting))
        if not base.is_absolute():
            base = project_dir / base
    root = base / f"stackrig-{os.geteuid()}"
    root.mkdir(parents=True, exist_ok=True, mode=0o755)
    return root


def socket_root() -> Path:
    """A short folder for a run's Unix sockets (PostgreSQL's, the control channel), whatever the
    project's depth: ``/tmp/stackrig-<uid>`` (``$TMPDIR`` only when /tmp is not writable)."""
    from pathlib import Path

    if os.access(_SOCKET_BASE, os.W_OK):
        base = _SOCKET_BASE
    else:
        import tempfile

        base = tempfile.gettempdir()
    root = Path(base) / f"stackrig-{os.geteuid()}"
    root.mkdir(mode=0o755, exist_ok=True)
    return root


def runtime_root(project_dir: Path) -> Path:
    """``<project>/.stackrig``: run records and logs."""
    return project_dir / RUNTIME_DIR
