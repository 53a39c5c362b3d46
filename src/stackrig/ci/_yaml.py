"""A small YAML writer for the generated pipelines: mappings, sequences, scalars, comments.

The pipelines are written from plain Python values so the generators stay data, and YAML comes out
with the comments that explain each step (no YAML library does comments from plain values, and
stackrig needs none at run time).  Strings are plain only when that is unambiguous (a letter first,
no ``:``, ``#``, quotes or flow characters, not a YAML 1.1 boolean or null); a string with double
quotes and no single ones is single-quoted; everything else is double-quoted JSON, which is valid
YAML.  :class:`Block` is a literal block scalar (``|``) — the ``run:`` scripts — and
:class:`Comment` a comment line inside a mapping or a sequence.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Block", "Comment", "Note", "Blank", "dump"]

_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_./@+()-]*(?: [A-Za-z0-9_./@+()-]+)*")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "y", "n", "null", "~"}
_KEYS_PLAIN = {"on"}  # top level only: GitHub's own spelling of its trigger key (YAML 1.2 reads a string)


class Block(str):
    """A literal block scalar (``|``): a multi-line shell script, written as is."""

    __slots__ = ()


@dataclass(frozen=True, eq=False)
class Comment:
    """A comment line: a key of a mapping (its value is ignored) or an item of a sequence."""

    text: str


@dataclass(frozen=True, eq=False)
class Blank:
    """An empty line between two entries of a mapping."""


@dataclass(frozen=True)
class Note:
    """A scalar with a comment after it on the same line: ``uses: owner/repo@sha  # v1.2.3``."""

    value: str | int | bool
    comment: str


def _scalar(value: object, key: bool = False) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if value is None:
        return ""
    text = str(value)
    if key and text in _KEYS_PLAIN:
        return text
    if _PLAIN.fullmatch(text) and text.lower() not in _RESERVED:
        return text
    if '"' in text and "'" not in text and text.isprintable():
        return f"'{text}'"  # single-quoted: a shell line with double quotes stays readable
    return json.dumps(text)


def _comment_lines(text: str, pad: str) -> list[str]:
    return [f"{pad}# {line}".rstrip() if line else f"{pad}#" for line in text.splitlines() or [""]]


def _block(text: str, pad: str) -> list[str]:
    return [f"{pad}{line}".rstrip() if line.strip() else "" for line in text.rstrip("\n").splitlines()]


def _flow(items: Sequence[Any]) -> str | None:
    """A short list of scalars on one line (``[main, master]``), or None."""
    if not items or any(isinstance(i, Mapping | list | tuple | Comment | Block | Note | Blank) for i in items):
        return None if items else "[]"
    text = "[" + ", ".join(_scalar(i) for i in items) + "]"
    return text if len(text) <= 72 else None


def _value_lines(key_text: str, value: Any, pad: str) -> list[str]:
    """`key: value` at `pad`, and the lines of a nested value."""
    inner = pad + "  "
    if isinstance(value, Note):
        return [f"{pad}{key_text}: {_scalar(value.value)}  # {value.comment}"]
    if isinstance(value, Block):
        return [f"{pad}{key_text}: |", *_block(value, inner)]
    if isinstance(value, Mapping):
        if not value:
            return [f"{pad}{key_text}: {{}}"]
        return [f"{pad}{key_text}:", *_mapping(value, inner)]
    if isinstance(value, list | tuple):
        flow = _flow(value)
        if flow is not None:
            return [f"{pad}{key_text}: {flow}"]
        return [f"{pad}{key_text}:", *_sequence(value, inner)]
    text = _scalar(value)
    return [f"{pad}{key_text}:{' ' + text if text else ''}"]


def _mapping(doc: Mapping[Any, Any], pad: str) -> list[str]:
    lines: list[str] = []
    for key, value in doc.items():
        if isinstance(key, Comment):
            lines.extend(_comment_lines(key.text, pad))
        elif isinstance(key, Blank):
            lines.append("")
        else:
            lines.extend(_value_lines(_scalar(key, key=not pad), value, pad))
    return lines


def _sequence(items: Iterable[Any], pad: str) -> list[str]:
    lines: list[str] = []
    for item in items:
        if isinstance(item, Comment):
            lines.extend(_comment_lines(item.text, pad))
        elif isinstance(item, Mapping):
            body = _mapping(item, pad + "  ")
            first = next((i for i, line in enumerate(body) if line.strip() and not line.lstrip().startswith("#")), 0)
            lines.extend(pad + line.lstrip() for line in body[:first])  # comments before the first key: above the dash
            lines.append(f"{pad}- {body[first][len(pad) + 2:]}")
            lines.extend(body[first + 1:])
        elif isinstance(item, Block):
            lines.append(f"{pad}- |")
            lines.extend(_block(item, pad + "  "))
        elif isinstance(item, Note):
            lines.append(f"{pad}- {_scalar(item.value)}  # {item.comment}")
        else:
            lines.append(f"{pad}- {_scalar(item)}")
    return lines


def dump(doc: Mapping[Any, Any], header: str = "") -> str:
    """The YAML text of `doc`, after `header` as comment lines."""
    lines = _comment_lines(header, "") if header else []
    lines.extend(_mapping(doc, ""))
    return "\n".join(lines) + "\n"
