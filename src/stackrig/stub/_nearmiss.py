"""Near misses: the stubs closest to an unmatched request, and the requests closest to a pattern.

The same comparison feeds the 404 body of an unmatched request, the admin ``near-misses``
endpoints and the failure message of ``StubClient.verify``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ._journal import ServeEvent
from ._mapping import StubMapping
from ._pattern import Difference, RequestPattern
from ._request import Request

__all__ = ["MAX_NEAR_MISSES", "NearMiss", "closest_requests", "closest_stubs", "unmatched_report"]

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


def unmatched_report(req: Request, misses: list[NearMiss]) -> str:
    """The human-readable 404 body."""
    lines = ["Request was not matched", "=======================", "", f"Request: {req.method} {req.url}"]
    for name, value in req.headers:
        if name.lower() not in ("host", "content-length", "user-agent", "accept", "accept-encoding", "connection"):
            lines.append(f"  {name}: {value}")
    if req.body:
        text = req.text
        lines.append("  body: " + (text if len(text) <= 500 else text[:500] + "..."))
    lines.append("")
    if not misses:
        lines.append("No stub comes close.")
        return "\n".join(lines) + "\n"
    lines.append("Closest stubs:")
    for i, miss in enumerate(misses, 1):
        assert miss.stub is not None
        lines.append(f"{i}. {miss.stub.describe()}")
        for diff in miss.differences:
            lines.append(f"     {diff.field}: expected {diff.expected}, got {diff.actual}   <<<<< does not match")
        if not miss.differences:
            lines.append("     (matches, but its scenario is in another state)")
    return "\n".join(lines) + "\n"
