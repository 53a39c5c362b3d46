"""A run's folder under `.stackrig/runs/`: its id, and pruning the folders of old runs."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from ._record import RunRecord

__all__ = ["KEEP_RUNS", "new_run_id", "prune_runs"]

KEEP_RUNS = 20


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + os.urandom(3).hex()


def prune_runs(runs: Path, keep: int = KEEP_RUNS) -> None:
    """Remove all but the newest `keep` finished run folders (logs of old runs); the folder of a
    run that is still alive stays, however old."""
    try:
        folders = sorted((p for p in runs.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    except OSError:
        return
    for folder in folders[:-keep] if len(folders) > keep else []:
        state = folder / "state.json"
        try:
            if state.exists() and RunRecord.load(state).alive():
                continue
        except (OSError, ValueError, TypeError, KeyError):
            pass
        shutil.rmtree(folder, ignore_errors=True)
