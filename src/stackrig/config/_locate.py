"""Find the line of a key path in TOML source text.

`tomllib` reports lines only for syntax errors, so validation errors are
located by scanning the text: table headers (``[a.b]``, ``[[a.b]]``) set the
current table, ``key = value`` lines (dotted keys too) name a full path, and
an inline table's keys are found on the line that opens it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""^\s*((?:"[^"]*"|'[^']*'|[A-Za-z0-9_\-]+)(?:\s*\.\s*(?:"[^"]*"|'[^']*'|[A-Za-z0-9_\-]+))*)\s*=""")
_PART = re.compile(r"""\s*("[^"]*"|'[^']*'|[A-Za-z0-9_\-]+)\s*""")


def _split(dotted: str) -> tuple[str, ...]:
    parts: list[str] = []
    for m in _PART.finditer(dotted):
        p = m.group(1)
        if p[:1] in "\"'":
            p = p[1:-1]
        parts.append(p)
    return tuple(parts)


def key_lines(text: str) -> dict[tuple[str, ...], int]:
    """Map every table header and assigned key path to its (1-based) line."""
    found: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        header = _HEADER.match(line)
        if header and not _KEY.match(line):
            table = _split(header.group(1))
            found.setdefault(table, lineno)
            continue
        key = _KEY.match(line)
        if key:
            path = table + _split(key.group(1))
            found.setdefault(path, lineno)
            # keys of an inline table on the same line: a = {b = 1, c = 2}
            rest = line[key.end():]
            if "{" in rest:
                for inner in re.finditer(r"""[{,]\s*("[^"]*"|'[^']*'|[A-Za-z0-9_\-]+)\s*=""", rest):
                    found.setdefault(path + _split(inner.group(1)), lineno)
    return found


def locate(lines: dict[tuple[str, ...], int], path: Sequence[str | int]) -> int | None:
    """The line of `path`, or of its longest located prefix."""
    keys = tuple(str(p) for p in path if not isinstance(p, int))
    while keys:
        if keys in lines:
            return lines[keys]
        keys = keys[:-1]
    return None
