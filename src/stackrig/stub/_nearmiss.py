"""Near misses: the stubs closest to an unmatched request, and the requests closest to a pattern.

The same comparison feeds the 404 body of an unmatched request (WireMock's diff table against
the closest stub, built by ``_diff`` and laid out by ``_diff_render``), the admin ``near-misses``
endpoints and the failure message of ``StubClient.verify``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ._diff import diff_rows
from ._diff_render import DEFAULT_CONSOLE_WIDTH, render_table
from ._journal import ServeEvent
from ._mapping import StubMapping
from ._pattern import Difference, RequestPattern
from ._request import Request

__all__ = [
    "CONSOLE_WIDTH_HEADER",
    "MAX_NEAR_MISSES",
    "NO_STUBS",
    "NearMiss",
    "closest_requests",
    "closest_stubs",
    "unmatched_report",
]

CONSOLE_WIDTH_HEADER = "X-WireMock-Console-Width"

MAX_NEAR_MISSES = 3
# Requests further than this from a pattern are not worth showing as near misses.
_CUTOFF = 0.5


@dataclass
class NearMiss:
    distance: float
    differences: list[Difference]
    stub: StubMapping | None = None
    event: ServeEvent | None = None
    request: Request | None = None

    def match_result(self) -> dict[str, Any]:
        return {
            "distance": self.distance,
            "subEvents": [],
            "diffDescriptions": [d.to_json() for d in self.differences],
        }


def closest_stubs(
    stubs: Iterable[StubMapping], req: Request, limit: int = MAX_NEAR_MISSES, cutoff: float = 1.0
) -> list[NearMiss]:
    """The stubs nearest to ``req`` (like WireMock, even far ones by default)."""
    misses = []
    for stub in stubs:
        distance, diffs = stub.request.compare(req)
        if distance < cutoff:
            misses.append(NearMiss(distance, diffs, stub=stub, request=req))
    misses.sort(key=lambda m: m.distance)
    return misses[:limit]


def closest_requests(
    events: Iterable[ServeEvent], pattern: RequestPattern, limit: int = MAX_NEAR_MISSES
) -> list[NearMiss]:
    misses = []
    for event in events:
        distance, diffs = pattern.compare(event.request)
        if distance < _CUTOFF:
            misses.append(NearMiss(distance, diffs, event=event, request=event.request))
    misses.sort(key=lambda m: m.distance)
    return misses[:limit]


NO_STUBS = "No response could be served as there are no stub mappings in this WireMock instance."


def unmatched_report(req: Request, misses: list[NearMiss], states: Mapping[str, str] | None = None) -> str:
    """The 404 body: WireMock's plain-text diff table against the closest stub.

    ``states`` holds the current state of each scenario (absent = Started).  The request may set
    the table width with the ``X-WireMock-Console-Width`` header, as with WireMock.
    """
    if not misses or misses[0].stub is None:
        return NO_STUBS
    stub = misses[0].stub
    width = DEFAULT_CONSOLE_WIDTH
    asked = req.header(CONSOLE_WIDTH_HEADER)
    if asked is not None and asked.strip().isdigit():
        width = int(asked.strip())
    state = (states or {}).get(stub.scenario) if stub.scenario is not None else None
    return render_table(stub.name, diff_rows(stub, req, state), width)
