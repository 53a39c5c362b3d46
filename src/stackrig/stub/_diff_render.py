"""Lay out a near-miss diff as the plain-text table WireMock puts in a 404 body.

A port of WireMock 3.13's ``PlainTextDiffRenderer``: a centred "Request was not matched" banner,
a ``| Closest stub | Request |`` header between rules of ``-``, then one row per diff line with the
stub's expectation padded to the middle column, a ``|``, the request's value and, for a line that
does not match, ``<<<<< <reason>``.  Cells wider than a column are wrapped the way WireMock's
``Strings.wrapIfLongestLineExceedsLimit`` wraps them.  The table is 119 characters wide unless the
request asks for another width with ``X-WireMock-Console-Width``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["DEFAULT_CONSOLE_WIDTH", "Row", "render_table", "wrap_if_too_long"]

DEFAULT_CONSOLE_WIDTH = 119
_TITLE = "Request was not matched"
_BLANK_LINE = re.compile(r"(?m)^[ \t]*\r?\n")


@dataclass(frozen=True)
class Row:
    """One diff line: the stub's side, the request's side, and the reason when they differ."""

    left: str
    right: str = ""
    message: str | None = None


def _java_wrap(text: str, width: int) -> str:
    """commons-lang ``WordUtils.wrap(text, width, "\\n", true)``: break at spaces, split long words.

    Line breaks already in ``text`` are ordinary characters to this algorithm, as in WireMock.
    """
    width = max(width, 1)
    out: list[str] = []
    offset, length = 0, len(text)
    while offset < length:
        window = text[offset : min(offset + width + 1, length)]
        spaces = [i for i, c in enumerate(window) if c == " "]
        wrap_at = -1
        if spaces:
            if spaces[0] == 0:
                offset += 1
                continue
            wrap_at = spaces[0] + offset
        if length - offset <= width:
            break
        if spaces:
            wrap_at = spaces[-1] + offset
        if wrap_at >= offset:
            out.append(text[offset:wrap_at])
            out.append("\n")
            offset = wrap_at + 1
        else:
            out.append(text[offset : offset + width])
            out.append("\n")
            offset += width
    out.append(text[offset:])
    return "".join(out)


def wrap_if_too_long(text: str, width: int) -> str:
    """Wrap ``text`` only when one of its lines is longer than ``width``; drop blank lines then."""
    if max((len(line) for line in text.split("\n")), default=0) > width:
        return _BLANK_LINE.sub("", _java_wrap(text, width))
    return text


def _java_split_lines(text: str) -> list[str]:
    """``String.split("\\n")`` in Java: trailing empty strings are dropped."""
    if "\n" not in text:
        return [text]
    parts = text.split("\n")
    while parts and parts[-1] == "":
        parts.pop()
    return parts


class _Table:
    def __init__(self, console_width: int) -> None:
        self.width = console_width
        self.middle = console_width // 2 - 1
        self.column = console_width // 2 - 2
        self.out: list[str] = []

    def single(self, left: str, right: str | None, message: str | None) -> None:
        line = left.ljust(self.middle + 1) + "|"
        if right:
            line += " "
            line += right.ljust(self.middle - 6) + "<<<<< " + message if message else right
        elif message:
            line += (right or "").ljust(self.middle - 5) + "<<<<< " + message
        self.out.append(line + "\n")

    def blank(self) -> None:
        self.single("", None, None)

    def row(self, left: str, right: str, message: str | None) -> None:
        lefts = _java_split_lines(wrap_if_too_long(left.replace("\r\n", "\n"), self.column))
        rights = _java_split_lines(wrap_if_too_long(right.replace("\r\n", "\n"), self.column))
        self.single(lefts[0] if lefts else "", rights[0] if rights else "", message)
        for i in range(1, max(len(lefts), len(rights))):
            self.single(lefts[i] if i < len(lefts) else "", rights[i] if i < len(rights) else "", None)

    def header(self) -> None:
        pad = " " * (self.middle - len(_TITLE) // 2)
        rule = "-" * self.width
        self.out.append(f"\n{pad}{_TITLE}\n{pad}{'=' * len(_TITLE)}\n\n{rule}\n")
        self.out.append("|" + " Closest stub".ljust(self.middle) + "|" + " Request".ljust(self.middle) + "|\n")
        self.out.append(rule + "\n")
        self.blank()


def render_table(stub_name: str | None, rows: Iterable[Row], console_width: int = DEFAULT_CONSOLE_WIDTH) -> str:
    """The whole 404 body for the closest stub (its name, if any, heads the left column)."""
    table = _Table(max(console_width, 20))
    table.header()
    if stub_name is not None:
        table.row(stub_name, "", None)
        table.blank()
    for row in rows:
        table.row(row.left, row.right, row.message)
    table.blank()
    table.out.append("-" * table.width + "\n")
    return "".join(table.out)
