"""Turning what a test run produced into the model: outcomes, stackrig's sections, attachments, start offsets.

Plain functions over plain values (no pytest here): the pytest plugin feeds them at session end.
"""

from __future__ import annotations

import base64
import mimetypes
import os
import re
from collections.abc import Iterable, Sequence

from ._model import Attachment, Phase, Section, Service, ServiceLog, StubRequest, Test

__all__ = [
    "EMBED_LIMIT", "LOGS_TITLE", "EVENTS_TITLE", "FAULTS_TITLE", "UNMATCHED_TITLE", "outcome_of", "parse_logs",
    "parse_unmatched", "attachment", "estimate_starts", "fill_sections",
]

#: images up to this size are embedded into the report as data: URIs
EMBED_LIMIT = 256 * 1024

# the section titles the pytest plugin's makereport hook gives (pytest_plugin/_session.py)
LOGS_TITLE = "stackrig: service logs during this test"
FAULTS_TITLE = "stackrig: faults active when the test failed"
EVENTS_TITLE = "stackrig: events the test's taps saw"
UNMATCHED_TITLE = "stackrig: stub requests that matched nothing"

_HEADER = re.compile(r"^--- (?P<name>\S+) \((?P<kind>[^,()]+), (?P<path>.+?)\)"
                     r"(?P<rest>: nothing logged during the test| \(last (?P<shown>\d+) of (?P<total>\d+) lines\))?$")
_UNMATCHED = re.compile(r"^(?P<service>\S+)\s+(?P<method>[A-Z]+)\s+(?P<url>\S+)(?:\s+--\s+(?P<closest>.*))?$")


def outcome_of(phases: Sequence[Phase], xfail: bool) -> str:
    """A test's outcome from its phases, as pytest counts it (``xfail``: a phase had ``wasxfail``)."""
    failed = {p.when for p in phases if p.outcome == "failed"}
    if "call" in failed:
        return "failed"
    if failed:
        return "error"
    if any(p.outcome == "rerun" for p in phases):
        return "rerun"
    if any(p.outcome == "skipped" for p in phases):
        return "xfailed" if xfail else "skipped"
    if xfail:
        return "xpassed"
    return "passed"


def parse_logs(text: str, services: Iterable[str] | None = None) -> list[ServiceLog] | None:
    """stackrig's log section (``--- name (kind, path)`` then the lines) as one :class:`ServiceLog` per
    service, or None when the text is not in that shape.  ``services``: the names a header may carry
    (a logged line that looks like a header is not one)."""
    known = set(services) if services is not None else None
    logs: list[ServiceLog] = []
    current: ServiceLog | None = None
    for line in text.splitlines():
        m = _HEADER.match(line) if line.startswith("--- ") else None
        if m is not None and (known is None or m["name"] in known):
            current = ServiceLog(service=m["name"], kind=m["kind"], path=m["path"])
            if m["total"]:
                current.total = int(m["total"])
            logs.append(current)
            if m["rest"] and m["rest"].startswith(":"):
                current = None  # nothing logged: no lines follow
            continue
        if current is None:
            return None
        current.lines.append(line)
    for log in logs:
        log.total = max(log.total, len(log.lines))
    return logs


def parse_unmatched(text: str) -> list[StubRequest] | None:
    """The unmatched-requests section, one ``SERVICE METHOD URL [-- closest]`` per line, or None."""
    found: list[StubRequest] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        m = _UNMATCHED.match(line.strip())
        if m is None:
            return None
        found.append(StubRequest(service=m["service"], method=m["method"], url=m["url"], closest=m["closest"] or ""))
    return found


def fill_sections(test: Test, sections: Iterable[tuple[str, str]], services: Iterable[str] | None) -> None:
    """Sort a failing test's report sections into the model: stackrig's into their fields, the rest kept."""
    seen: set[tuple[str, str]] = set()
    names = list(services) if services is not None else None
    for title, text in sections:
        if (title, text) in seen:
            continue
        seen.add((title, text))
        if title == LOGS_TITLE:
            logs = parse_logs(text, names)
            if logs is not None:
                test.logs.extend(logs)
                continue
        elif title == EVENTS_TITLE:
            test.events = (test.events + "\n" + text).strip("\n")
            continue
        elif title == FAULTS_TITLE:
            test.faults = (test.faults + "\n" + text).strip("\n")
            continue
        elif title == UNMATCHED_TITLE:
            unmatched = parse_unmatched(text)
            if unmatched is not None:
                test.unmatched.extend(unmatched)
                continue
        test.sections.append(Section(title=title, text=text))


def attachment(path: str, name: str = "", mime: str = "", *, embed_limit: int = EMBED_LIMIT) -> Attachment:
    """An attachment for a file; an image no larger than ``embed_limit`` is embedded (data: URI)."""
    path = os.path.abspath(path)
    mime = mime or mimetypes.guess_type(path)[0] or ("application/zip" if path.endswith(".zip") else "")
    found = Attachment(name=name or os.path.basename(path), path=path, mime=mime)
    if mime.startswith("image/"):
        try:
            if os.path.getsize(path) <= embed_limit:
                with open(path, "rb") as f:
                    found.data = f"data:{mime};base64,{base64.b64encode(f.read()).decode()}"
        except OSError:
            pass
    return found


def estimate_starts(services: list[Service]) -> None:
    """Give services without ``start_ms`` one: a service starts when the last of its dependencies is
    ready (that is when stackrig starts it), the others at 0.  Marked ``start_estimated``."""
    by_name = {s.name: s for s in services}
    done: dict[str, float] = {}

    def start_of(svc: Service, trail: frozenset[str]) -> float:
        if svc.start_ms is not None:
            return svc.start_ms
        start = 0.0
        for dep in svc.depends_on:
            other = by_name.get(dep)
            if other is None or dep in trail:
                continue
            start = max(start, end_of(other, trail | {svc.name}))
        return start

    def end_of(svc: Service, trail: frozenset[str]) -> float:
        if svc.name not in done:
            done[svc.name] = start_of(svc, trail) + (svc.ready_ms or 0.0)
        return done[svc.name]

    for svc in services:
        if svc.start_ms is None and svc.ready_ms is not None and not svc.external:
            svc.start_ms = round(start_of(svc, frozenset()), 1)
            svc.start_estimated = True
