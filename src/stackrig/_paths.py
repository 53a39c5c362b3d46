"""Where stackrig keeps caches, run records and run data."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["cache_dir", "runtime_root", "data_root"]


def cache_dir() -> Path:
    """Long-lived caches (initialised clusters, versions): ``STACKRIG_CACHE_DIR`` or the user cache dir."""
    env = os.environ.get("STACKRIG_CACHE_DIR")
    if env:
        return Path(env)
    from platformdirs import user_cache_path

    return user_cache_path("stackrig")


def _tmpfs() -> Path | None:
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        return shm
    return None


def data_root(setting: str, project_dir: Path) -> Path:
    """The folder run data (database files) goes in, from the `[stackrig] data_dir` setting."""
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


def runtime_root(project_dir: Path) -> Path:
    """``<project>/.stackrig``: run records and logs."""
    return project_dir / ".stackrig"
