"""Spare clusters (the next run's copy, made in the background): how old a spare is, and never
deleting another run's copy in progress."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stackrig.kinds.postgres._cluster import MAX_SPARES, claim_spare, make_spare, start_spare


def _cluster(folder: Path) -> Path:
    """A stand-in for a cluster folder, its mtime a week old (as a cache entry's is)."""
    src = folder / "cluster"
    (src / "base").mkdir(parents=True)
    (src / "base" / "1").write_text("data")
    week = time.time() - 7 * 24 * 3600
    for path in (src / "base" / "1", src / "base", src):
        os.utime(path, (week, week))
    return src


def test_a_fresh_copy_of_an_old_cluster_is_not_stale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`cp -a` keeps the source's week-old mtime: judged by it, every spare would be deleted at once."""
    monkeypatch.setenv("STACKRIG_SPARES", "1")
    src = _cluster(tmp_path)
    make_spare(tmp_path / "data", "k1", src)
    make_spare(tmp_path / "data", "k1", src)  # the tidy-up of the second call must keep the first
    spares = sorted((tmp_path / "data" / "spares").iterdir())
    assert len(spares) == MAX_SPARES
    assert claim_spare(tmp_path / "data", "k1", tmp_path / "run" / "pg")
    assert (tmp_path / "run" / "pg" / "base" / "1").read_text() == "data"


def test_another_runs_copy_in_progress_is_left_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STACKRIG_SPARES", "1")
    src = _cluster(tmp_path)
    spares = tmp_path / "data" / "spares"
    spares.mkdir(parents=True)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        in_progress = spares / f"k2.{other.pid}-1.tmp"  # a live run's copy
        in_progress.mkdir()
        gone = spares / "k2.999999999-1.tmp"  # no such process: an abandoned copy
        gone.mkdir()
        old = spares / "k2.1-1"  # a finished spare, as it will be in two days
        old.mkdir()
        # two days on (ctime cannot be set back, the clock can): everything there is past its time
        import stackrig.kinds.postgres._cluster as cluster

        later = time.time() + 2 * 24 * 3600
        monkeypatch.setattr(cluster.time, "time", lambda: later)
        copy = start_spare(tmp_path / "data", "k2", src)
        assert copy is not None
        copy.finish()
        assert in_progress.is_dir()  # its copier still runs
        assert not gone.exists() and not old.exists()
    finally:
        other.kill()
        other.wait()
