"""Compose's variable interpolation, and the `.env` / `env_file` format.

Every string value of a compose file may use ``$VAR``, ``${VAR}``, ``${VAR:-default}`` (unset or
empty), ``${VAR-default}`` (unset), ``${VAR:?message}`` / ``${VAR?message}`` (required),
``${VAR:+replacement}`` / ``${VAR+replacement}``, defaults that nest (``${A:-${B}}``), and ``$$`` for
a literal ``$``.  Values come from the environment, then from the project's ``.env`` file.  Keys
are not interpolated.  Inside ``x-stackrig`` (whose values are stackrig's own syntax) a reference
that is no compose variable — ``${self.port}``, ``${db.url}``, or ``${python}`` when no variable
of that name is set — is kept as written, for stackrig to resolve.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["Interpolator", "MissingVariable", "read_env_file", "parse_env_lines"]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_STACKRIG_NAMES = ("python", "node", "npm", "go")


class MissingVariable(ValueError):
    """``${VAR:?message}`` with VAR unset (or empty)."""

    def __init__(self, name: str, message: str, keys: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.name = name
        self.keys = keys


class Interpolator:
    """Interpolates values with one environment; remembers the unset variables it met."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.unset: dict[str, tuple[str | int, ...]] = {}  # variable -> first key path using it
        self.used: set[str] = set()

    def value(self, value: Any, keys: tuple[str | int, ...] = (), *, lenient: bool = False) -> Any:
        """`value` with every string in it interpolated (dicts and lists walked, keys kept)."""
        if isinstance(value, str):
            return self.text(value, keys, lenient=lenient)
        if isinstance(value, dict):
            return {k: self.value(v, (*keys, k), lenient=lenient or k == "x-stackrig") for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v, (*keys, i), lenient=lenient) for i, v in enumerate(value)]
        return value

    def text(self, text: str, keys: tuple[str | int, ...] = (), *, lenient: bool = False) -> str:
        if "$" not in text:
            return text
        out: list[str] = []
        i = 0
        n = len(text)
        while i < n:
            c = text[i]
            if c != "$":
                out.append(c)
                i += 1
                continue
            nxt = text[i + 1] if i + 1 < n else ""
            if nxt == "$":
                out.append("$")
                i += 2
            elif nxt == "{":
                end = _closing(text, i + 2)
                if end < 0:
                    out.append(text[i:])
                    break
                out.append(self._braced(text[i + 2:end], text[i:end + 1], keys, lenient))
                i = end + 1
            else:
                m = _NAME.match(text, i + 1)
                if not m:
                    out.append("$")
                    i += 1
                    continue
                out.append(self._lookup(m.group(0), keys))
                i = m.end()
        return "".join(out)

    def _lookup(self, name: str, keys: tuple[str | int, ...]) -> str:
        self.used.add(name)
        value = self.environ.get(name)
        if value is None:
            self.unset.setdefault(name, keys)
            return ""
        return value

    def _braced(self, inner: str, whole: str, keys: tuple[str | int, ...], lenient: bool) -> str:
        m = _NAME.match(inner)
        if not m:
            if lenient:
                return whole  # `${self.port}`: stackrig's
            raise ValueError(f"invalid interpolation {whole!r}: a variable name is letters, digits and '_'")
        name = m.group(0)
        rest = inner[m.end():]
        if not rest:
            if lenient and name in _STACKRIG_NAMES and name not in self.environ:
                return whole  # `${python}`: the runtime stackrig finds
            return self._lookup(name, keys)
        if lenient and rest.startswith(".") and name not in self.environ:
            return whole
        self.used.add(name)
        value = self.environ.get(name)
        for op in (":-", ":?", ":+", "-", "?", "+"):
            if rest.startswith(op):
                arg = self.text(rest[len(op):], keys, lenient=lenient)
                empty_counts = op.startswith(":")
                missing = value is None or (empty_counts and value == "")
                if op.endswith("-"):
                    return arg if missing else str(value)
                if op.endswith("?"):
                    if missing:
                        raise MissingVariable(name, arg or f"required variable {name} is missing a value", keys)
                    return str(value)
                return "" if missing else arg
        if lenient:
            return whole
        raise ValueError(f"invalid interpolation {whole!r}: expected ${{{name}}}, ${{{name}:-default}}, "
                         f"${{{name}:?message}} or ${{{name}:+value}}")


def _closing(text: str, start: int) -> int:
    """The index of the `}` closing a `${` whose content starts at `start` (nested `${...}` too)."""
    depth = 1
    i = start
    while i < len(text):
        if text.startswith("${", i):
            depth += 1
            i += 2
            continue
        if text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def parse_env_lines(text: str, interpolate: Callable[[str], str] | None = None) -> list[tuple[int, str, str | None]]:
    """``KEY=VALUE`` lines (``export`` prefix, comments, single/double quotes, ``KEY`` alone = unset
    here, taken from the environment) as (line, key, value)."""
    found: list[tuple[int, str, str | None]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        raw = lines[i]
        lineno = i + 1
        i += 1
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[7:].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep:
            found.append((lineno, key, None))
            continue
        value = value.lstrip()
        if value[:1] in ("'", '"'):
            quote = value[0]
            body = value[1:]
            while quote not in body.replace("\\" + quote, "") and i < len(lines):  # a multi-line value
                body += "\n" + lines[i]
                i += 1
            end = _quote_end(body, quote)
            inner = body[:end] if end >= 0 else body
            if quote == '"':
                inner = inner.replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")
                value = interpolate(inner) if interpolate else inner
            else:
                value = inner  # single quotes: literal
        else:
            value = re.sub(r"\s+#.*$", "", value).rstrip()
            value = interpolate(value) if interpolate else value
        found.append((lineno, key, value))
    return found


def _quote_end(body: str, quote: str) -> int:
    i = 0
    while i < len(body):
        if body[i] == "\\" and quote == '"':
            i += 2
            continue
        if body[i] == quote:
            return i
        i += 1
    return -1


def read_env_file(path: Path, environ: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """An env file's variables (values interpolated with `environ` and the file's earlier lines)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    values: dict[str, str | None] = {}

    def interpolate(value: str) -> str:
        known = {**{k: v for k, v in values.items() if v is not None}, **(environ or {})}
        try:
            return Interpolator(known).text(value)
        except ValueError:
            return value

    for _, key, value in parse_env_lines(text, interpolate):
        values[key] = value
    return values
