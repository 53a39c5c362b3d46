"""Splitting a suite into N shards balanced by recorded durations, and the durations file.

The plan is a pure function of the test ids and the durations, so every CI machine that collects
the same ids and reads the same durations file computes the same plan: each test in exactly one
shard.  Greedy longest-processing-time: tests sorted by recorded duration, longest first (ties by
id), each given to the shard with the least total so far (ties to the lowest shard).  A test
without a recorded duration counts as the median of the recorded ones (1 s when none is).

The durations file (``.stackrig/durations.json`` in the project root) maps test ids to their last
measured duration and when it was measured::

    {"format": 1, "tests": {
      "tests/test_api.py::test_login": {"seconds": 0.8121, "at": 1767225600},
      ...
    }}

Runs *merge* their measurements into it (a test not run this time keeps its entry), under an
exclusive lock (shards running at once on one machine), written to a temporary file and renamed
(a reader never sees half a file).  A plain ``{"id": seconds}`` mapping (pytest-split's
``.test_durations``) is read too.  Shard files gathered from CI machines merge by taking each
test's latest measurement (:func:`merge_durations`).
"""

from __future__ import annotations

import heapq
import json
import os
import re
import statistics
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ._errors import ShardError

__all__ = ["Measure", "ShardPlan", "DURATIONS_FILE", "parse_shard", "plan_shards", "round_robin", "load_durations",
           "update_durations", "merge_durations", "write_durations", "DEFAULT_SECONDS"]

DURATIONS_FILE = ".stackrig/durations.json"  # relative to the project root (pytest's rootdir)
DEFAULT_SECONDS = 1.0  # the weight of a test when nothing at all is recorded
_FORMAT = 1
_SHARD = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


@dataclass(frozen=True)
class Measure:
    """One test's last measured duration, and when (Unix time) it was measured."""

    seconds: float
    at: float = 0.0


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/3"`` -> (2, 3): the K-th (1-based) of N shards; :class:`ShardError` says what is wrong."""
    m = _SHARD.fullmatch(text or "")
    if not m:
        raise ShardError(f"expected K/N (the K-th of N shards, e.g. 2/3), found {text!r}",
                         hint="pass --stackrig-shard 1/3, 2/3 and 3/3 on three machines")
    index, total = int(m.group(1)), int(m.group(2))
    if total < 1:
        raise ShardError(f"{text!r}: the number of shards N must be at least 1", hint="e.g. --stackrig-shard 1/2")
    if not 1 <= index <= total:
        raise ShardError(f"{text!r}: the shard K must be between 1 and N={total} (shards are numbered from 1)",
                         hint=f"pass one of 1/{total} .. {total}/{total}")
    return index, total


@dataclass(frozen=True)
class ShardPlan:
    """Which test ids each of N shards runs (``shards[0]`` is shard 1), and the estimated seconds."""

    shards: tuple[tuple[str, ...], ...]
    loads: tuple[float, ...]
    estimated: frozenset[str]  # ids that had no recorded duration (weighted as `default`)
    default: float

    def of(self, index: int) -> tuple[str, ...]:
        """The ids of shard `index` (1-based)."""
        return self.shards[index - 1]

    @property
    def makespan(self) -> float:
        """The estimated time of the slowest shard."""
        return max(self.loads, default=0.0)


def _weights(ids: Sequence[str], durations: Mapping[str, Measure]) -> tuple[dict[str, float], float, set[str]]:
    known = [durations[i].seconds for i in ids if i in durations]
    pool = known or [m.seconds for m in durations.values()]
    default = statistics.median(pool) if pool else DEFAULT_SECONDS
    weights: dict[str, float] = {}
    unknown: set[str] = set()
    for test in ids:
        found = durations.get(test)
        if found is None:
            unknown.add(test)
        weights[test] = found.seconds if found is not None else default
    return weights, default, unknown


def plan_shards(ids: Iterable[str], durations: Mapping[str, Measure], total: int) -> ShardPlan:
    """Split `ids` into `total` shards balanced by `durations` (greedy LPT over sorted ids).

    Deterministic: the order `ids` come in does not matter, duplicates count once."""
    if total < 1:
        raise ShardError(f"the number of shards must be at least 1, found {total}")
    unique = sorted(set(ids))
    weights, default, unknown = _weights(unique, durations)
    order = sorted(unique, key=lambda test: (-weights[test], test))
    heap = [(0.0, shard) for shard in range(total)]
    members: list[list[str]] = [[] for _ in range(total)]
    loads = [0.0] * total
    for test in order:
        load, shard = heapq.heappop(heap)
        members[shard].append(test)
        loads[shard] = load + weights[test]
        heapq.heappush(heap, (loads[shard], shard))
    return ShardPlan(shards=tuple(tuple(sorted(m)) for m in members), loads=tuple(loads),
                     estimated=frozenset(unknown), default=default)


def round_robin(ids: Iterable[str], total: int) -> tuple[tuple[str, ...], ...]:
    """The naive split, for comparison: sorted ids dealt out in turn."""
    unique = sorted(set(ids))
    return tuple(tuple(unique[k::total]) for k in range(total))


# -- the durations file ------------------------------------------------------------------------------
def _parse(data: object) -> dict[str, Measure]:
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    tests = data.get("tests") if "format" in data else data
    if not isinstance(tests, dict):
        raise ValueError("no `tests` object")
    found: dict[str, Measure] = {}
    for test, entry in tests.items():
        if isinstance(entry, int | float) and not isinstance(entry, bool):
            found[str(test)] = Measure(float(entry))  # pytest-split's {"id": seconds}
        elif isinstance(entry, dict) and isinstance(entry.get("seconds"), int | float):
            at = entry.get("at", 0)
            found[str(test)] = Measure(float(entry["seconds"]), float(at) if isinstance(at, int | float) else 0.0)
    return found


def load_durations(path: str | os.PathLike[str]) -> dict[str, Measure]:
    """The recorded durations (empty when there is no file); :class:`ValueError` for a file that is
    not a durations file."""
    p = Path(path)
    try:
        raw = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        return _parse(json.loads(raw))
    except ValueError as exc:
        raise ValueError(f"{p} is not a durations file: {exc}") from None


def _encode(durations: Mapping[str, Measure]) -> str:
    """One test per line, sorted: readable, and a small diff when committed."""
    rows = [f"  {json.dumps(test)}: {{\"seconds\": {round(m.seconds, 4)!r}, \"at\": {int(m.at)}}}"
            for test, m in sorted(durations.items())]
    body = "\n" + ",\n".join(rows) + "\n" if rows else ""
    return f'{{"format": {_FORMAT}, "tests": {{{body}}}}}\n'


def write_durations(path: str | os.PathLike[str], durations: Mapping[str, Measure]) -> Path:
    """Write the file atomically: a temporary file beside it, flushed, then renamed over it."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(_encode(durations))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
    finally:
        tmp.unlink(missing_ok=True)
    return p


def update_durations(path: str | os.PathLike[str], measured: Mapping[str, float],
                     now: float | None = None) -> dict[str, Measure]:
    """Merge this run's `measured` seconds into the file at `path` and return the merged table.

    Under an exclusive lock on ``<path>.lock``, so shards finishing at once on one machine each add
    their tests; a file that is not a durations file is replaced (its content could not be kept)."""
    import fcntl

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    stamp = time.time() if now is None else now
    with open(p.with_name(p.name + ".lock"), "a+b") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            try:
                merged = load_durations(p)
            except ValueError:
                merged = {}
            merged.update({test: Measure(max(0.0, float(s)), stamp) for test, s in measured.items()})
            write_durations(p, merged)
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
    return merged


def merge_durations(tables: Iterable[Mapping[str, Measure]]) -> dict[str, Measure]:
    """One table of several (the shards' files): for each test, its latest measurement."""
    merged: dict[str, Measure] = {}
    for table in tables:
        for test, m in table.items():
            old = merged.get(test)
            if old is None or m.at >= old.at:
                merged[test] = m
    return merged
