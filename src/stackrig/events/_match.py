"""Which events a wait or a count means, how close a near miss came, and how it differs.

``match`` is a dict (a subset of the JSON body: every key present with a matching value,
recursively; lists match element-wise) or a callable ``event -> bool``.  Subjects use the
service's own wildcard syntax (see :mod:`._subjects`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ._event import Event

__all__ = ["Want", "differences"]

Match = Mapping[str, Any] | Callable[[Event], bool] | None


def _subset_problems(want: Any, got: Any, path: str, out: list[str]) -> None:
    if isinstance(want, Mapping):
        if not isinstance(got, Mapping):
            out.append(f"{path or 'body'}: expected an object, found {_short(got)}")
            return
        for key, value in want.items():
            where = f"{path}.{key}" if path else f"body.{key}"
            if key not in got:
                out.append(f"{where}: missing")
            else:
                _subset_problems(value, got[key], where, out)
        return
    if isinstance(want, list) and isinstance(got, list):
        if len(want) != len(got):
            out.append(f"{path or 'body'}: expected {len(want)} items, found {len(got)}")
            return
        for i, (w, g) in enumerate(zip(want, got, strict=True)):
            _subset_problems(w, g, f"{path}[{i}]", out)
        return
    if want != got:
        out.append(f"{path or 'body'}: expected {_short(want)}, found {_short(got)}")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


class Want:
    """A wait's or a count's criteria: an optional subject (in the service's wildcard syntax) and
    an optional body match."""

    def __init__(self, subject: str | None, match: Match, subject_matches: Callable[[str, str], bool]) -> None:
        self.subject = subject
        self.match = match
        self.subject_matches = subject_matches

    def problems(self, event: Event) -> list[str]:
        """Why `event` is not wanted ([] when it is)."""
        found: list[str] = []
        if self.subject is not None and not self.subject_matches(self.subject, event.subject):
            found.append(f"subject {event.subject!r} does not match {self.subject!r}")
        if self.match is None:
            return found
        if callable(self.match):
            try:
                ok = bool(self.match(event))
            except Exception as exc:  # noqa: BLE001 - the predicate's own error is the difference
                found.append(f"the match function raised {type(exc).__name__}: {exc}")
                return found
            if not ok:
                found.append("the match function returned false")
            return found
        body = event.body
        if isinstance(body, bytes):
            found.append(f"the body is not JSON ({len(body)} bytes)")
        else:
            _subset_problems(dict(self.match), body, "", found)
        return found

    def __call__(self, event: Event) -> bool:
        return not self.problems(event)

    def describe(self) -> str:
        parts = []
        if self.subject is not None:
            parts.append(f"subject {self.subject!r}")
        if callable(self.match):
            parts.append(f"match {getattr(self.match, '__name__', 'function')}()")
        elif self.match is not None:
            parts.append(f"body containing {dict(self.match)!r}")
        return " and ".join(parts)


def differences(want: Want, event: Event) -> tuple[int, list[str]]:
    """(distance, problems): 0 for a match; the subject counts more than a body field."""
    problems = want.problems(event)
    score = sum(10 if p.startswith("subject ") else 1 for p in problems)
    return score, problems
