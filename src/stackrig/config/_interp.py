"""`${...}` interpolation in `command`, `env` and `export` values.

Forms: ``${attr}`` and ``${self.attr}`` (the service's own attribute),
``${service.attr}`` (another service's), ``${env.NAME}`` (the environment of
the stackrig process), ``${python}`` (the interpreter running stackrig, so an app
runs in the same virtualenv as the tests).  ``$${`` writes a literal ``${``.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass

__all__ = ["Reference", "references", "interpolate"]

_REF = re.compile(r"\$(\$?)\{([^}]*)\}")


@dataclass(frozen=True)
class Reference:
    text: str  # as written, e.g. "${db.url}"
    service: str | None  # None = the service itself; "env" = environment
    attr: str


def _parse(inner: str, text: str) -> Reference:
    inner = inner.strip()
    if "." not in inner:
        return Reference(text, None, inner)
    service, _, attr = inner.partition(".")
    if service == "self":
        return Reference(text, None, attr)
    return Reference(text, service, attr)


def references(value: str) -> Iterator[Reference]:
    for m in _REF.finditer(value):
        if m.group(1):  # $${ escape
            continue
        yield _parse(m.group(2), m.group(0))


def interpolate(value: str, resolve: Callable[[Reference], str]) -> str:
    def sub(m: re.Match[str]) -> str:
        if m.group(1):
            return "${" + m.group(2) + "}"
        ref = _parse(m.group(2), m.group(0))
        if ref.service is None and ref.attr == "python":
            return sys.executable
        if ref.service == "env":
            return os.environ.get(ref.attr, "")
        return resolve(ref)

    return _REF.sub(sub, value)
