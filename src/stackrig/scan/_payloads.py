"""The payload lists in `payloads/` (sources and licences in payloads/README.md), read once."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

__all__ = ["lines", "sql_errors", "sql_error_payloads", "sql_time_payloads", "xss_payloads", "traversal_payloads",
           "file_signatures"]


@cache
def lines(name: str) -> tuple[tuple[str, ...], ...]:
    """The non-comment lines of payloads/`name`, split on tabs."""
    text = resources.files("stackrig.scan").joinpath("payloads", name).read_text(encoding="utf-8")
    return tuple(tuple(line.split("\t")) for line in text.splitlines() if line and not line.startswith("#"))


@cache
def sql_errors() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """(DBMS, pattern) of the database error signatures."""
    return tuple((dbms, re.compile(pattern)) for dbms, pattern in lines("sql-errors.txt"))


@cache
def sql_error_payloads() -> tuple[tuple[str, str | None], ...]:
    """(payload, balanced twin or None)."""
    return tuple((row[0], row[1] if len(row) > 1 else None) for row in lines("sql-error-payloads.txt"))


@cache
def sql_time_payloads() -> tuple[tuple[str, str], ...]:
    """(DBMS, payload with {d} for the delay)."""
    return tuple((row[0], row[1]) for row in lines("sql-time-payloads.txt"))


@cache
def xss_payloads() -> tuple[str, ...]:
    return tuple(row[0] for row in lines("xss.txt"))


@cache
def traversal_payloads() -> tuple[str, ...]:
    return tuple(row[0] for row in lines("path-traversal.txt"))


@cache
def file_signatures() -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple((name, re.compile(pattern)) for name, pattern in lines("file-signatures.txt"))
