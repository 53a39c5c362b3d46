"""What a scan finds: kinds, severities, findings and the result of a whole scan."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ._errors import ScanArgumentError

__all__ = ["KINDS", "SEVERITIES", "DEFAULT_SEVERITY", "Finding", "ScanResult", "parse_severity", "parse_checks",
           "shorten"]

SEVERITIES = ("low", "medium", "high")  # ascending

# Every kind of finding, in the order the report shows them, with its usual severity (docs/scan.md)
DEFAULT_SEVERITY: dict[str, str] = {
    "sql-injection": "high",
    "xss": "high",
    "path-traversal": "high",
    "missing-auth": "high",
    "cors": "high",         # medium for `*` with credentials, low for an echoed origin without credentials
    "rate-limit": "medium",
    "server-error": "low",
}
KINDS = tuple(DEFAULT_SEVERITY)

EVIDENCE_CHARS = 240


def parse_severity(value: str) -> str:
    """`value` as one of SEVERITIES (any case), or ScanArgumentError saying which are."""
    found = value.strip().lower() if isinstance(value, str) else ""
    if found not in SEVERITIES:
        raise ScanArgumentError(f"unknown severity {value!r}: use one of {', '.join(reversed(SEVERITIES))}",
                                hint="e.g. --fail-on medium fails on medium and high findings")
    return found


def parse_checks(checks: Iterable[str] | str | None) -> tuple[str, ...]:
    """The checks to run, in report order: None or "all" is every kind; names may be comma-separated."""
    if checks is None:
        return KINDS
    items = [checks] if isinstance(checks, str) else list(checks)
    names = {part.strip().lower() for item in items for part in str(item).split(",") if part.strip()}
    if not names:
        raise ScanArgumentError("no checks named", hint=f"pass some of: {', '.join(KINDS)} (or all)")
    if "all" in names:
        return KINDS
    unknown = sorted(names - set(KINDS))
    if unknown:
        import difflib

        close = [m for u in unknown for m in difflib.get_close_matches(u, KINDS, n=1)]
        maybe = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ScanArgumentError(f"unknown check{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}{maybe}",
                                hint=f"the checks are: {', '.join(KINDS)}, or all")
    return tuple(k for k in KINDS if k in names)


def shorten(text: str | bytes | None, limit: int = EVIDENCE_CHARS) -> str:
    """A one-line excerpt: bytes decoded (undecodable bytes escaped), whitespace runs folded, cut at `limit`."""
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="backslashreplace")
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


@dataclass(frozen=True)
class Finding:
    """One flaw, with the request that shows it.

    `operation` is ``"METHOD /path/{template}"`` as the schema names it; `parameter` the name of the
    parameter or body field (dotted for nested fields) and `location` where it goes (``query``,
    ``path``, ``header``, ``cookie``, ``body``), or None when the finding is about the operation;
    `evidence` the part of the response that proves it; `curl` one shell-quoted command that
    sends the same request."""

    kind: str
    severity: str
    operation: str
    title: str
    evidence: str
    curl: str
    parameter: str | None = None
    location: str | None = None
    payload: str | None = None

    @property
    def rank(self) -> int:
        return SEVERITIES.index(self.severity)

    def at_or_above(self, severity: str) -> bool:
        return self.rank >= SEVERITIES.index(severity)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "severity": self.severity, "operation": self.operation,
                "parameter": self.parameter, "location": self.location, "payload": self.payload,
                "title": self.title, "evidence": self.evidence, "curl": self.curl}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Finding:
        return cls(kind=data["kind"], severity=data["severity"], operation=data["operation"], title=data["title"],
                   evidence=data["evidence"], curl=data["curl"], parameter=data.get("parameter"),
                   location=data.get("location"), payload=data.get("payload"))


@dataclass
class ScanResult:
    """Everything a scan found, and what it did to find it."""

    target: str
    schema: str
    checks: tuple[str, ...]
    findings: list[Finding] = field(default_factory=list)
    operations: int = 0
    requests: int = 0
    duration_s: float = 0.0
    notes: list[str] = field(default_factory=list)

    def failing(self, fail_on: str = "high") -> list[Finding]:
        """The findings at or above `fail_on`."""
        level = parse_severity(fail_on)
        return [f for f in self.findings if f.at_or_above(level)]

    def ok(self, fail_on: str = "high") -> bool:
        """True when no finding is at or above `fail_on` (high, medium or low)."""
        return not self.failing(fail_on)

    def of_kind(self, kind: str) -> list[Finding]:
        return [f for f in self.findings if f.kind == kind]

    def by_kind(self) -> dict[str, list[Finding]]:
        groups: dict[str, list[Finding]] = {}
        for kind in KINDS:
            found = self.of_kind(kind)
            if found:
                groups[kind] = found
        return groups

    def to_json(self) -> dict[str, Any]:
        """``{"findings": [...]}``: what `stackrig scan --json` prints."""
        return {"findings": [f.to_json() for f in self.findings]}

    def render(self, *, color: bool = False) -> str:
        """The human report: a table per kind, each finding with its curl line, then a summary."""
        from ._render import render

        return render(self, color=color)

    def assert_ok(self, fail_on: str = "high") -> None:
        """Raise AssertionError listing the findings at or above `fail_on` (for tests)."""
        failing = self.failing(fail_on)
        if failing:
            raise AssertionError(f"{len(failing)} finding(s) at or above {fail_on}:\n" + self.render())

    def sort(self) -> None:
        order = {k: i for i, k in enumerate(KINDS)}
        self.findings.sort(key=lambda f: (order.get(f.kind, 99), -f.rank, f.operation, f.parameter or ""))
