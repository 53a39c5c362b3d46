"""What the checks share during one scan: the target, the schema, the findings so far, notes, and
each operation's benign request (sent once)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from ._http import Sent, Target, Values
from ._model import DEFAULT_SEVERITY, Finding, shorten
from ._schema import ApiSchema, Operation, Param

__all__ = ["Context", "excerpt"]


def excerpt(text: str, start: int, end: int, around: int = 60) -> str:
    """The matched part of `text` with some context, on one line."""
    lo, hi = max(0, start - around), min(len(text), end + around)
    return ("…" if lo else "") + shorten(text[lo:hi], 2 * around + (end - start) + 2) + ("…" if hi < len(text) else "")


@dataclass
class Context:
    target: Target
    schema: ApiSchema
    checks: tuple[str, ...]
    delay: float = 2.0
    jwt_secret: str | None = None
    login_attempts: int = 25
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _baselines: dict[str, tuple[Values, Sent | None]] = field(default_factory=dict)
    _limited: dict[str, int] = field(default_factory=dict)

    def note(self, text: str) -> None:
        with self._lock:
            if text not in self.notes:
                self.notes.append(text)

    def add(self, finding: Finding) -> bool:
        """Record a finding; False when one of the same kind, operation and parameter is already in."""
        key = (finding.kind, finding.operation, finding.parameter, finding.location)
        with self._lock:
            if any((f.kind, f.operation, f.parameter, f.location) == key for f in self.findings):
                return False
            self.findings.append(finding)
            return True

    def found(self, kind: str, op: Operation | str, title: str, evidence: str, sent: Sent, *,
              point: Param | None = None, payload: str | None = None, severity: str | None = None,
              location: str | None = None, parameter: str | None = None) -> bool:
        return self.add(Finding(kind=kind, severity=severity or DEFAULT_SEVERITY[kind],
                                operation=op if isinstance(op, str) else op.label, title=title,
                                evidence=shorten(evidence), curl=sent.curl,
                                parameter=point.name if point is not None else parameter,
                                location=point.location if point is not None else location,
                                payload=payload))

    def send(self, op: Operation, values: Values, **options: Any) -> Sent | None:
        sent = self.target.send(op, values, **options)
        if sent is not None and sent.status == 429:
            with self._lock:
                self._limited[op.label] = self._limited.get(op.label, 0) + 1
        return sent

    def baseline(self, op: Operation) -> tuple[Values, Sent | None]:
        """The benign values of `op` and its answer to them (sent once per scan)."""
        with self._lock:
            cached = self._baselines.get(op.label)
        if cached is not None:
            return cached
        values = self.target.benign(op)
        sent = self.send(op, values)
        with self._lock:
            self._baselines.setdefault(op.label, (values, sent))
            return self._baselines[op.label]

    def rate_limited_notes(self) -> None:
        for label, count in sorted(self._limited.items()):
            self.note(f"{label} answered 429 (rate limited) to {count} scan request(s): the checks of that "
                      f"operation may be incomplete")
