"""The request-journal endpoints (``/__admin/requests``: list, find, count, remove, unmatched) and
the near-miss endpoints (``/__admin/near-misses``, ``/__admin/requests/unmatched/near-misses``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ._admin_common import (
    JSON_PARSE,
    AdminResult,
    Fail,
    Handler,
    ItemHandler,
    int_param,
    parse_json,
    pattern_from,
    stub_json,
)
from ._nearmiss import closest_requests, closest_stubs
from ._request import Request

if TYPE_CHECKING:
    from ._app import StubApp

__all__ = ["ITEM_ROUTES", "ROUTES"]

Query = dict[str, list[str]]


def _requests_list(app: StubApp, q: Query, body: bytes) -> AdminResult:
    events = list(app.journal.newest_first())
    if q.get("unmatched", [""])[0] == "true":
        events = [e for e in events if not e.was_matched]
    if q.get("matchingStub"):
        wanted = q["matchingStub"][0].lower()
        events = [e for e in events if e.stub_id == wanted]
    total = len(events)
    limit = int_param(q, "limit")
    if limit is not None:
        events = events[:limit]
    return 200, {
        "requests": [e.to_json(app.host, app.port, stub_json(app, e.stub_id)) for e in events],
        "meta": {"total": total},
        "requestJournalDisabled": app.journal.limit <= 0,
    }


def _requests_clear(app: StubApp, q: Query, body: bytes) -> AdminResult:
    app.journal.clear()
    return 200, None


def _requests_count(app: StubApp, q: Query, body: bytes) -> AdminResult:
    pattern = pattern_from(body)
    count = sum(1 for e in app.journal.oldest_first() if pattern.matches(e.request))
    return 200, {"count": count, "requestJournalDisabled": app.journal.limit <= 0}


def _requests_find(app: StubApp, q: Query, body: bytes) -> AdminResult:
    pattern = pattern_from(body)
    found = [e.request.to_json(app.host, app.port) for e in app.journal.oldest_first() if pattern.matches(e.request)]
    return 200, {"requests": found, "requestJournalDisabled": app.journal.limit <= 0}


def _requests_remove(app: StubApp, q: Query, body: bytes) -> AdminResult:
    pattern = pattern_from(body)
    removed = [e for e in app.journal.oldest_first() if pattern.matches(e.request)]
    app.journal.remove_where(lambda e: not pattern.matches(e.request))
    return 200, {"serveEvents": [e.to_json(app.host, app.port, stub_json(app, e.stub_id)) for e in removed]}


def _requests_unmatched(app: StubApp, q: Query, body: bytes) -> AdminResult:
    found = [e.request.to_json(app.host, app.port) for e in app.journal.newest_first() if not e.was_matched]
    return 200, {"requests": found, "requestJournalDisabled": app.journal.limit <= 0}


def _unmatched_near_misses(app: StubApp, q: Query, body: bytes) -> AdminResult:
    out = []
    for event in app.journal.newest_first():
        if event.was_matched:
            continue
        for miss in closest_stubs(app.store, event.request):
            assert miss.stub is not None
            out.append(
                {
                    "request": event.request.to_json(app.host, app.port),
                    "stubMapping": miss.stub.to_json(),
                    "matchResult": miss.match_result(),
                }
            )
    return 200, {"nearMisses": out}


def _near_misses_request(app: StubApp, q: Query, body: bytes) -> AdminResult:
    raw = parse_json(body)
    if not isinstance(raw, dict):
        raise Fail(422, JSON_PARSE, "Error parsing JSON", 'expected a logged request object {"method", "url", ...}')
    req = Request.from_json(raw)
    out = []
    for miss in closest_stubs(app.store, req):
        assert miss.stub is not None
        out.append(
            {
                "request": req.to_json(app.host, app.port),
                "stubMapping": miss.stub.to_json(),
                "matchResult": miss.match_result(),
            }
        )
    return 200, {"nearMisses": out}


def _near_misses_pattern(app: StubApp, q: Query, body: bytes) -> AdminResult:
    raw = parse_json(body, required=False) or {}
    pattern = pattern_from(body)
    out = []
    for miss in closest_requests(app.journal.newest_first(), pattern):
        assert miss.request is not None
        out.append(
            {
                "request": miss.request.to_json(app.host, app.port),
                "requestPattern": raw,
                "matchResult": miss.match_result(),
            }
        )
    return 200, {"nearMisses": out}


def _request_get(app: StubApp, event_id: str, body: bytes) -> AdminResult:
    event = app.journal.get(event_id)
    if event is None:
        return 404, None
    return 200, event.to_json(app.host, app.port, stub_json(app, event.stub_id))


def _request_delete(app: StubApp, event_id: str, body: bytes) -> AdminResult:
    app.journal.remove_where(lambda e: e.id != event_id.lower())
    return 200, None


ROUTES: dict[tuple[str, str], Handler] = {
    ("GET", "requests"): _requests_list,
    ("DELETE", "requests"): _requests_clear,
    ("POST", "requests/reset"): _requests_clear,
    ("POST", "requests/count"): _requests_count,
    ("POST", "requests/find"): _requests_find,
    ("POST", "requests/remove"): _requests_remove,
    ("GET", "requests/unmatched"): _requests_unmatched,
    ("GET", "requests/unmatched/near-misses"): _unmatched_near_misses,
    ("POST", "near-misses/request"): _near_misses_request,
    ("POST", "near-misses/request-pattern"): _near_misses_pattern,
}
ITEM_ROUTES: list[tuple[str, re.Pattern[str], ItemHandler]] = [
    ("GET", re.compile(r"requests/([^/]+)"), _request_get),
    ("DELETE", re.compile(r"requests/([^/]+)"), _request_delete),
]
