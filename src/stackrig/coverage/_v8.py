"""Node's V8 coverage (``NODE_V8_COVERAGE``) as line coverage, written as lcov.

V8 reports, per script, functions with byte ranges and execution counts (block coverage: nested
ranges override the ones around them).  A line's count is the count of the innermost range that
holds its first non-blank character; lines that hold only comments, brackets or nothing are not
counted — close to what c8/istanbul report.  Files under ``node_modules`` and Node's own are left
out; several processes' files (replicas, restarts) add up.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

__all__ = ["v8_line_counts", "write_lcov"]

_NOT_CODE = re.compile(r"^\s*(//.*|/\*.*|\*.*|[})\];,]*\s*)$")


def _script_path(url: str) -> Path | None:
    if not url.startswith("file://"):
        return None
    return Path(unquote(urlsplit(url).path))


def _line_starts(text: str) -> list[int]:
    starts, offset = [0], 0
    for line in text.splitlines(keepends=True):
        offset += len(line.encode())
        starts.append(offset)
    return starts


def _counts_for(source: str, functions: list[dict[str, Any]]) -> dict[int, int]:
    ranges: list[tuple[int, int, int]] = []
    for fn in functions:
        for r in fn.get("ranges", []):
            ranges.append((int(r["startOffset"]), int(r["endOffset"]), int(r["count"])))
    ranges.sort(key=lambda r: (r[0], -r[1]))
    encoded = source.encode()
    starts = _line_starts(source)
    counts: dict[int, int] = {}
    for number, line in enumerate(source.splitlines(), start=1):
        if _NOT_CODE.match(line):
            continue
        first = starts[number - 1] + (len(line.encode()) - len(line.lstrip().encode()))
        if first >= len(encoded):
            continue
        best: tuple[int, int, int] | None = None
        for r in ranges:  # the innermost (shortest) range holding the line's first character
            if r[0] <= first < r[1] and (best is None or r[1] - r[0] < best[1] - best[0]):
                best = r
        if best is not None:
            counts[number] = best[2]
    return counts


def v8_line_counts(files: Iterable[Path], root: Path) -> dict[Path, dict[int, int]]:
    """Line counts per source file under `root`, summed over every V8 coverage file."""
    total: dict[Path, dict[int, int]] = {}
    root = root.resolve()
    for file in files:
        try:
            data = json.loads(file.read_text())
        except (OSError, ValueError):
            continue
        for script in data.get("result", []):
            path = _script_path(str(script.get("url", "")))
            if path is None or "node_modules" in path.parts or not path.is_relative_to(root) or not path.is_file():
                continue
            counts = _counts_for(path.read_text(errors="replace"), script.get("functions", []))
            merged = total.setdefault(path, {})
            for line, count in counts.items():
                merged[line] = merged.get(line, 0) + count
    return total


def write_lcov(counts: dict[Path, dict[int, int]], out: Path) -> tuple[int, int]:
    """An lcov ``.info`` file; returns (lines hit, lines found)."""
    hit = found = 0
    parts: list[str] = ["TN:"]
    for path in sorted(counts):
        lines = counts[path]
        parts.append(f"SF:{path}")
        parts += [f"DA:{n},{c}" for n, c in sorted(lines.items())]
        h = sum(1 for c in lines.values() if c > 0)
        parts += [f"LF:{len(lines)}", f"LH:{h}", "end_of_record"]
        hit, found = hit + h, found + len(lines)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(parts) + "\n")
    return hit, found
