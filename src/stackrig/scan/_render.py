"""The human report of a scan: one table per kind of finding, each row followed by its curl line."""

from __future__ import annotations

from ._model import DEFAULT_SEVERITY, SEVERITIES, ScanResult, shorten

__all__ = ["render"]

_COLUMNS = ("severity", "operation", "parameter", "payload", "evidence")
_WIDTHS = (8, 28, 22, 30, 60)
_COLORS = {"high": "1;31", "medium": "33", "low": "36"}


def _paint(text: str, code: str, color: bool) -> str:
    return f"\033[{code}m{text}\033[0m" if color else text


def _cell(text: str, width: int) -> str:
    text = shorten(text, width)
    return text.ljust(width)


def render(result: ScanResult, *, color: bool = False) -> str:
    out: list[str] = []
    for kind, findings in result.by_kind().items():
        out.append(_paint(f"{kind} ({len(findings)})", "1", color))
        out.append("  " + "  ".join(_cell(c.upper(), w) for c, w in zip(_COLUMNS, _WIDTHS, strict=True)).rstrip())
        for f in findings:
            where = f"{f.parameter} ({f.location})" if f.parameter and f.location else f.parameter or f.location or "-"
            cells = (f.severity, f.operation, where, f.payload or "-", f"{f.title}: {f.evidence}")
            line = "  ".join(_cell(c, w) for c, w in zip(cells, _WIDTHS, strict=True)).rstrip()
            out.append("  " + _paint(line[:8], _COLORS[f.severity], color) + line[8:])
            out.append("      " + f.curl)
        out.append("")
    counts = {s: sum(1 for f in result.findings if f.severity == s) for s in reversed(SEVERITIES)}
    if result.findings:
        summary = f"{len(result.findings)} finding{'s' if len(result.findings) > 1 else ''}: " + ", ".join(
            f"{n} {s}" for s, n in counts.items() if n)
    else:
        summary = "no findings"
    ops = f"{result.operations} operation{'s' if result.operations != 1 else ''}"
    out.append(_paint(summary, "1", color) + f" — {ops} of {result.target}, "
               f"{result.requests} requests in {result.duration_s:.1f} s; checks: {', '.join(result.checks)}")
    for note in result.notes:
        out.append(f"note: {note}")
    return "\n".join(out)


def severity_table() -> str:
    """The kinds and their usual severities (for --help and the docs)."""
    return ", ".join(f"{k} ({v})" for k, v in DEFAULT_SEVERITY.items())
