"""Writing a report (``report.json`` and the self-contained ``report.html`` beside it) and reading one back.

In a written file, attachment paths are relative to the report's folder (the page links them so,
and a folder holding the report and its artefacts can be moved or archived as a whole);
:func:`load_report` makes them absolute again, so a merged report written elsewhere still finds them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import msgspec

from ._html import DATA_END, DATA_START, render_html
from ._model import FORMAT, Attachment, CoverageResult, LoadResult, Report, ReportError, summarize

__all__ = ["write_report", "load_report", "report_paths", "encode_report"]


def report_paths(path: str | os.PathLike[str]) -> tuple[Path, Path]:
    """(html, json) for a report path: ``report.html`` -> ``report.json`` beside it; ``x.json`` -> ``x.html``."""
    p = Path(path)
    if p.suffix.lower() == ".json":
        return p.with_suffix(".html"), p
    return p, p.with_suffix(".json")


def _map_paths(report: Report, fn: Callable[[str], str]) -> Report:
    """A report whose attachment paths went through ``fn`` (tests and structs shared where untouched)."""

    def moved(items: list[Attachment]) -> list[Attachment]:
        return [msgspec.structs.replace(a, path=fn(a.path)) if a.path else a for a in items]

    tests = [msgspec.structs.replace(t, attachments=moved(t.attachments)) if t.attachments else t
             for t in report.tests]
    sections = [msgspec.structs.replace(s, charts=moved(s.charts)) if isinstance(s, LoadResult) and s.charts
                else msgspec.structs.replace(s, html=fn(s.html)) if isinstance(s, CoverageResult) and s.html
                else s for s in report.sections]
    return msgspec.structs.replace(report, tests=tests, sections=sections)


def _relative_to(folder: Path) -> Callable[[str], str]:
    base = os.path.abspath(folder)

    def rel(path: str) -> str:
        if "://" in path:
            return path
        try:
            return os.path.relpath(os.path.abspath(path), base)
        except ValueError:  # another drive (Windows)
            return path

    return rel


def encode_report(report: Report) -> bytes:
    """``report.json``'s bytes (compact)."""
    return msgspec.json.encode(report)


def write_report(report: Report, path: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Write ``report.json`` and the self-contained HTML rendered from it; return (html, json) paths.

    ``path`` names the HTML file (``report.html``; the JSON goes beside it as ``report.json``) or the
    JSON file (``report.json``; the HTML beside it).  The summary is (re)computed."""
    html_path, json_path = report_paths(path)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    report = _map_paths(report, _relative_to(html_path.parent))
    report = msgspec.structs.replace(report, format=FORMAT, summary=summarize(report.tests),
                                     created=report.created or time.time())
    data = encode_report(report)
    for target, content in ((json_path, data), (html_path, render_html(report, data).encode())):
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.write_bytes(content)
        os.replace(tmp, target)
    return html_path, json_path


def load_report(path: str | os.PathLike[str]) -> Report:
    """Read and validate a report: its ``report.json``, or the HTML (the JSON it embeds).

    Raises :class:`ReportError` when the file is unreadable, not a report, or of another format."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ReportError(f"cannot read the report {p}: {exc.strerror or exc}") from None
    if raw.lstrip()[:1] == b"<":
        start, end = raw.find(DATA_START.encode()), raw.rfind(DATA_END.encode())
        if start < 0 or end < start:
            raise ReportError(f"{p}: an HTML file without a stackrig report's data")
        raw = raw[start + len(DATA_START):end]
    try:
        head = msgspec.json.decode(raw, type=dict[str, object])
    except msgspec.DecodeError as exc:
        raise ReportError(f"{p}: not JSON ({exc})") from None
    fmt = head.get("format")
    if fmt != FORMAT:
        what = "not a stackrig report (no \"format\")" if fmt is None else f"report format {fmt!r}"
        raise ReportError(f"{p}: {what}; this stackrig reads format {FORMAT}",
                          hint="write it again with this stackrig version, or read it with the one that wrote it")
    try:
        report = msgspec.convert(head, type=Report)
    except msgspec.ValidationError as exc:
        raise ReportError(f"{p}: not a valid report: {exc}") from None
    folder = os.path.abspath(p.parent)
    return _map_paths(report, lambda s: s if os.path.isabs(s) or "://" in s
                      else os.path.normpath(os.path.join(folder, s)))
