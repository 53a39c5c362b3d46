"""What a verification found: each interaction, whether it held, and every mismatch in words.

Built from the Rust verifier's JSON results (``interactionResults`` with their ``mismatches``),
plus what stackrig saw itself while serving the callbacks: a provider state whose function raised,
a message that never came.  ``render()`` is what ``stackrig pact verify`` prints; ``to_json()``
what ``--json`` prints.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._errors import PactVerificationFailed

__all__ = ["InteractionResult", "Mismatch", "VerificationReport"]


def _show(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return repr(value) if value else "nothing"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 200 else text[:199] + "…"


@dataclass
class Mismatch:
    """One difference between what the pact expects and what the provider did."""

    kind: str  # status, header, body, metadata, query, error, state, message
    message: str
    path: str = ""
    expected: Any = None
    actual: Any = None

    @classmethod
    def from_verifier(cls, raw: Mapping[str, Any]) -> Mismatch:
        kind = str(raw.get("type", "error"))
        text = str(raw.get("mismatch") or raw.get("message") or kind)
        short = {"StatusMismatch": "status", "HeaderMismatch": "header", "BodyMismatch": "body",
                 "BodyTypeMismatch": "body", "MetadataMismatch": "metadata", "QueryMismatch": "query",
                 "PathMismatch": "path", "MethodMismatch": "method"}.get(kind, kind)
        where = str(raw.get("path") or raw.get("key") or raw.get("parameter") or "")
        return cls(short, text, where, raw.get("expected"), raw.get("actual"))

    def line(self) -> str:
        where = f"{self.kind} {self.path}".strip() if self.path else self.kind
        if self.kind in ("status", "header", "body", "metadata", "query", "path", "method") and \
                (self.expected is not None or self.actual is not None):
            text = f"{where}: expected {_show(self.expected)}, found {_show(self.actual)}"
            if self.message and not self.message.startswith("expected "):
                text += f" — {self.message}"
            return text
        return f"{where}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message, "path": self.path, "expected": self.expected,
                "actual": self.actual}


@dataclass
class InteractionResult:
    consumer: str
    provider: str
    description: str
    states: list[str]
    ok: bool
    mismatches: list[Mismatch] = field(default_factory=list)
    duration: str = ""
    pending: bool = False

    @property
    def label(self) -> str:
        given = f" (given {', '.join(self.states)})" if self.states else ""
        return f"{self.consumer} -> {self.provider}: {self.description}{given}"

    def to_json(self) -> dict[str, Any]:
        return {"consumer": self.consumer, "provider": self.provider, "description": self.description,
                "providerStates": self.states, "ok": self.ok, "pending": self.pending, "duration": self.duration,
                "mismatches": [m.to_json() for m in self.mismatches]}


@dataclass
class VerificationReport:
    """The outcome of verifying pacts against one provider."""

    service: str
    url: str
    files: list[str]
    results: list[InteractionResult]
    output: str = ""  # the verifier's own text
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)  # what failed outside any interaction

    @property
    def failed(self) -> list[InteractionResult]:
        return [r for r in self.results if not r.ok and not r.pending]

    @property
    def ok(self) -> bool:
        return not self.failed and not self.errors and bool(self.results)

    def render(self) -> str:
        files = f"{len(self.files)} pact file{'s' if len(self.files) != 1 else ''}"
        lines = [f"pact verify: {len(self.results)} interactions from {files} against "
                 f"{self.service or 'the provider'} at {self.url}"]
        for result in self.results:
            mark = "ok  " if result.ok else ("pend" if result.pending else "FAIL")
            took = f"  {result.duration}" if result.duration else ""
            lines.append(f"  {mark}  {result.label}{took}")
            for mismatch in result.mismatches:
                lines.append("          " + mismatch.line().replace("\n", "\n          "))
        for error in self.errors:
            lines.append(f"  error: {error}")
        if self.ok:
            lines.append(f"all {len(self.results)} interactions hold ({self.seconds:.2f} s)")
        elif not self.results:
            lines.append("no interaction was verified")
        else:
            lines.append(f"{len(self.failed)} of {len(self.results)} interactions failed ({self.seconds:.2f} s)")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "service": self.service, "url": self.url, "files": self.files,
                "seconds": round(self.seconds, 3), "errors": self.errors,
                "interactions": [r.to_json() for r in self.results]}

    def raise_for_failures(self) -> VerificationReport:
        """Raise :class:`PactVerificationFailed` (an AssertionError) with the report unless all held."""
        if not self.ok:
            raise PactVerificationFailed(self.render(), failed=len(self.failed) or len(self.errors),
                                         total=len(self.results))
        return self

    def __str__(self) -> str:
        return self.render()
