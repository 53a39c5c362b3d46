"""WireMock's admin API under ``/__admin`` (mappings, requests, near misses, scenarios, recordings).

Each handler returns ``(status, json_or_None)``; errors follow WireMock's
``{"errors": [{"code", "source": {"pointer"}, "title", "detail"}]}`` shape.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._errors import MappingError
from ._files import MAPPINGS_DIR
from ._mapping import StubMapping
from ._nearmiss import closest_requests, closest_stubs
from ._pattern import RequestPattern
from ._request import Request, parse_query
from ._store import STARTED, DuplicateStubId

if TYPE_CHECKING:
    from ._app import StubApp

__all__ = ["AdminResult", "EmptyWithReason", "handle_admin"]

AdminResult = tuple[int, Any]
_JSON_PARSE = 10
_BAD_STATE = 11
_DUPLICATE_ID = 109
_NOT_RECORDING = 30


class EmptyWithReason(str):
    """An answer WireMock gives with an empty body; the reason travels in an X-Stackrig-Error header."""

    __slots__ = ()


class _Fail(Exception):
    def __init__(self, status: int, code: int, title: str, detail: str = "", pointer: str | None = None) -> None:
        super().__init__(title)
        self.status = status
        self.body = {
            "errors": [
                {
                    "code": code,
                    "source": {"pointer": pointer} if pointer else {},
                    "title": title,
                    "detail": detail or title,
                }
            ]
        }


def _pointer(json_path: str) -> str:
    path = re.sub(r"\[(\d+)\]", r".\1", json_path.lstrip("$"))
    return "/" + path.lstrip(".").replace(".", "/") if path else ""


def _parse_json(body: bytes, *, required: bool = True) -> Any:
    if not body.strip():
        if required:
            raise _Fail(422, _JSON_PARSE, "Error parsing JSON", "the request body is empty; expected a JSON document")
        return None
    try:
        return json.loads(body)
    except ValueError as exc:
        raise _Fail(422, _JSON_PARSE, "Error parsing JSON", f"the request body is not valid JSON: {exc}") from None


def _mapping_from(body: bytes, forced_id: str | None = None) -> StubMapping:
    raw = _parse_json(body)
    if forced_id is not None and isinstance(raw, dict):
        raw = dict(raw, id=forced_id)
        raw.pop("uuid", None)
    try:
        return StubMapping(raw)
    except MappingError as exc:
        raise _Fail(422, _JSON_PARSE, "Error parsing JSON", str(exc), _pointer(exc.json_path)) from None


def _pattern_from(body: bytes) -> RequestPattern:
    raw = _parse_json(body, required=False)
    try:
        return RequestPattern(raw if raw is not None else {}, "$")
    except MappingError as exc:
        raise _Fail(422, _JSON_PARSE, "Error parsing JSON", str(exc), _pointer(exc.json_path)) from None


def _stub_json(app: StubApp, stub_id: str | None) -> dict[str, Any] | None:
    if stub_id is None:
        return None
    stub = app.store.get(stub_id)
    return stub.to_json() if stub is not None else None


def _int_param(query: dict[str, list[str]], name: str) -> int | None:
    values = query.get(name)
    if not values:
        return None
    try:
        return int(values[0])
    except ValueError:
        raise _Fail(400, 400, f"query parameter '{name}' must be an integer, found {values[0]!r}") from None


# -- mappings -------------------------------------------------------------------------------------


def _mappings_list(app: StubApp, q: dict[str, list[str]], body: bytes) -> AdminResult:
    stubs = [s.to_json() for s in app.store]
    offset = _int_param(q, "offset") or 0
    limit = _int_param(q, "limit")
    page = stubs[offset : offset + limit if limit is not None else None]
    return 200, {"mappings": page, "meta": {"total": len(stubs)}}


def _mappings_create(app: StubApp, q: dict[str, list[str]], body: bytes) -> AdminResult:
    stub = _mapping_from(body)
    try:
        app.store.add(stub)
    except DuplicateStubId:
        raise _Fail(
            422, _DUPLICATE_ID, "Duplicate stub mapping ID", f"a stub with id {stub.id} already exists", "/id"
        ) from None
    if stub.persistent and app.root is not None:
        _save(app, stub)
    return 201, stub.to_json()


def _save(app: StubApp, stub: StubMapping) -> None:
    assert app.root is not None
    folder = app.root / MAPPINGS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stub.id}.json"
    path.write_text(json.dumps(stub.to_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    stub.source = path


def _mappings_delete_all(app: StubApp, q: dict[str, list[str]], body: bytes) -> AdminResult:
    app.store.clear()
    return 200, None


def _mappings_reset(app: StubApp, q: dict[str, list[str]], body: bytes) -> AdminResult:
    app.store.clear()
    app.store.reset_scenarios()
    app.load_files()
    return 200, None


def _mappings_save(app: StubApp, q: dict[str, list[str]], body: bytes) -> AdminResult:
    if app.root is None:
        raise _Fail(400, 400, "no --root folder to save mappings into")
    for stub in app.store:
        if stub.source is None:
            _save(app, stub)
    return 200, None


def _mappings_import(app: StubApp, q: dict[str, list[str]], body: bytes) -> AdminResult:
    raw = _parse_json(body)
    if not isinstance(raw, dict) or not isinstance(raw.get("mappings"), list):
        raise _Fail(422, _JSON_PARSE, "Error parsing JSON", 'expected {"mappings": [...], "importOptions": {...}}')
    options = raw.get("importOptions") or {}
    overwrite = options.get("duplicatePolicy", "OVERWRITE") == "OVERWRITE"
    stubs = []
    for i, item in enumerate(raw["mappings"]):
        try:
            stubs.append(StubMapping(item))
        except MappingError as exc:
            pointer = f"/mappings/{i}" + _pointer(exc.json_path)
            raise _Fail(422, _JSON_PARSE, "Error parsing JSON", str(exc), pointer) from None
    if options.get("deleteAllNotInImport"):
        app.store.clear()
    for stub in stubs:
        if app.store.get(stub.id) is not None:
            if overwrite:
                app.store.replace(stub)
        else:
            app.store.add(stub)
    return 200, None


def _mappings_unmatched(app: StubApp, q: dict[str, list[str]], body: bytes) -> AdminResult:
    used = {e.stub_id for e in app.journal.oldest_first()}
    stubs = [s.to_json() for s in app.store if s.id not in used]
    return 200, {"mappings": stubs, "meta": {"total": len(stubs)}}


def _mapping_get(app: StubApp, stub_id: str, body: bytes) -> AdminResult:
    stub = app.store.get(stub_id)
    return (200, stub.to_json()) if stub is not None else (404, None)


def _mapping_put(app: StubApp, stub_id: str, body: bytes) -> AdminResult:
    if app.store.get(stub_id) is None:
        return 404, None
    stub = _mapping_from(body, forced_id=stub_id.lower())
    app.store.replace(stub)
    return 200, stub.to_json()


def _mapping_delete(app: StubApp, stub_id: str, body: bytes) -> AdminResult:
    return (200, None) if app.store.remove(stub_id) is not None else (404, None)


# -- requests -------------------------------------------------------------------------------------


def _requests_list(app: StubApp, q: dict[str, list[str]], body: bytes) -> AdminResult:
    events = list(app.journal.newest_first())
    if q.get("unmatched", [""])[0] == "true":
        events = [e for e in events if not e.was_matched]
    if q.get("matchingStub"):
        wanted = q["matchingStub"][0].lower()
        events = [e for e in events if e.stub_id == wanted]
    total = len(events)
    limit = _int_param(q, "limit")
    if limit is not None:
        events = events[:limit]
    return 200, {
        "requests": [e.to_json(app.host, app.port, _stub_json(app, e.stub_id)) for e in events],
        "meta": {"total": total},
        "requestJournalDisabled": app.journal.limit <= 0,
    }


def _requests_clear(app: StubApp, q: dict[str, list[str]], body: bytes) -> AdminResult:
    app.journal.clear()
    return 200, None


def _requests_count(app: StubApp, q: dict[str, list[str]], body: bytes) -> AdminResult:
    pattern = _pattern_from(body)
    count = sum(1 for e in app.journal.oldest_first() if pattern.matches(e.request))
    return 200, {"count": count, "requestJournalDisabled": app.journal.limit <= 0}


def _requests_find(app: StubApp, q: dict[str, list[str]], body: bytes) -> AdminResult:
    pattern = _pattern_from(body)
    found = [e.request.to_json(app.host, app.port) for e in app.journal.oldest_first() if pattern.matches(e.request)]
    return 200, {"requests": found, "requestJournalDisabled": app.journal.limit <= 0}


def _requests_remove(app: StubApp, q: dict[str, list[str]], body: bytes) -> AdminResult:
    pattern = _pattern_from(body)
    removed = [e for e in app.journal.oldest_first() if pattern.matches(e.request)]
    app.journal.remove_where(lambda e: not pattern.matches(e.request))
    return 200, {"serveEvents": [e.to_json(app.host, app.port, _stub_json(app, e.stub_id)) for e in removed]}


def _requests_unmatched(app: StubApp, q: dict[str, list[str]], body: bytes) -> AdminResult:
    found = [e.request.to_json(app.host, app.port) for e in app.journal.newest_first() if not e.was_matched]
    return 200, {"requests": found, "requestJournalDisabled": app.journal.limit <= 0}


def _unmatched_near_misses(app: StubApp, q: dict[str, list[str]], body: bytes) -> AdminResult:
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


def _near_misses_request(app: StubApp, q: dict[str, list[str]], body: bytes) -> AdminResult:
    raw = _parse_json(body)
    if not isinstance(raw, dict):
        raise _Fail(422, _JSON_PARSE, "Error parsing JSON", 'expected a logged request object {"method", "url", ...}')
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


def _near_misses_pattern(app: StubApp, q: dict[str, list[str]], body: bytes) -> AdminResult:
    raw = _parse_json(body, required=False) or {}
    pattern = _pattern_from(body)
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
    return 200, event.to_json(app.host, app.port, _stub_json(app, event.stub_id))


def _request_delete(app: StubApp, event_id: str, body: bytes) -> AdminResult:
    app.journal.remove_where(lambda e: e.id != event_id.lower())
    return 200, None


# -- scenarios, reset, recordings, misc -------------------------------------------------------------


def _scenarios_list(app: StubApp, q: dict[str, list[str]], body: bytes) -> AdminResult:
    return 200, {"scenarios": app.store.scenarios()}


def _scenarios_reset(app: StubApp, q: dict[str, list[str]], body: bytes) -> AdminResult:
    app.store.reset_scenarios()
    return 200, None


def _scenario_set_state(app: StubApp, name: str, body: bytes) -> AdminResult:
    scenarios = {s["name"]: s for s in app.store.scenarios()}
    if name not in scenarios:
        raise _Fail(404, 404, "Scenario not found", f"no scenario named {name!r}; known: {sorted(scenarios) or 'none'}")
    raw = _parse_json(body, required=False)
    state = raw.get("state") if isinstance(raw, dict) else None
    if state is None:
        app.store.reset_scenario(name)
        return 200, None
    possible = scenarios[name]["possibleStates"]
    if state not in possible and state != STARTED:
        raise _Fail(
            422,
            _BAD_STATE,
            "Invalid scenario state",
            f"state {state!r} is not a possible state of scenario {name!r}; possible: {possible}",
        )
    app.store.set_state(name, str(state))
    return 200, None


def _reset(app: StubApp, q: dict[str, list[str]], body: bytes) -> AdminResult:
    app.reset()
    return 200, None


def _settings_get(app: StubApp, q: dict[str, list[str]], body: bytes) -> AdminResult:
    return 200, {"settings": {"fixedDelay": app.global_delay_ms}}


def _settings_set(app: StubApp, q: dict[str, list[str]], body: bytes) -> AdminResult:
    raw = _parse_json(body)
    delay = raw.get("fixedDelay", 0) if isinstance(raw, dict) else None
    if delay is None:
        delay = 0
    if not isinstance(delay, int) or isinstance(delay, bool) or delay < 0:
        raise _Fail(
            422,
            _JSON_PARSE,
            "Error parsing JSON",
            f"fixedDelay must be a non-negative integer (ms), found {json.dumps(delay)}",
            "/fixedDelay",
        )
    app.global_delay_ms = delay
    return 200, None


def _health(app: StubApp, q: dict[str, list[str]], body: bytes) -> AdminResult:
    return 200, {"status": "healthy", "message": "stackrig stub server is ok", "version": "3.13.2-stackrig"}


def _version(app: StubApp, q: dict[str, list[str]], body: bytes) -> AdminResult:
    return 200, {"version": "3.13.2-stackrig"}


def _recordings_start(app: StubApp, q: dict[str, list[str]], body: bytes) -> AdminResult:
    raw = _parse_json(body)
    target = raw.get("targetBaseUrl") if isinstance(raw, dict) else None
    if not isinstance(target, str) or not target.startswith(("http://", "https://")):
        raise _Fail(
            422,
            _JSON_PARSE,
            "Error parsing JSON",
            f'expected {{"targetBaseUrl": "http://host:port"}}, found {json.dumps(raw)[:200]}',
            "/targetBaseUrl",
        )
    app.recorder.start(target)
    return 200, None


def _recordings_stop(app: StubApp, q: dict[str, list[str]], body: bytes) -> AdminResult:
    if app.recorder.status != "Recording":
        raise _Fail(400, _NOT_RECORDING, "Not currently recording.", "POST /__admin/recordings/start first")
    return 200, {"mappings": app.recorder.stop()}


def _recordings_status(app: StubApp, q: dict[str, list[str]], body: bytes) -> AdminResult:
    return 200, {"status": app.recorder.status}


def _shutdown(app: StubApp, q: dict[str, list[str]], body: bytes) -> AdminResult:
    app.shutdown_requested = True
    return 200, None


Handler = Callable[["StubApp", dict[str, list[str]], bytes], AdminResult]
ItemHandler = Callable[["StubApp", str, bytes], AdminResult]

_ROUTES: dict[tuple[str, str], Handler] = {
    ("GET", "health"): _health,
    ("GET", "version"): _version,
    ("GET", "mappings"): _mappings_list,
    ("POST", "mappings"): _mappings_create,
    ("DELETE", "mappings"): _mappings_delete_all,
    ("POST", "mappings/reset"): _mappings_reset,
    ("POST", "mappings/save"): _mappings_save,
    ("POST", "mappings/import"): _mappings_import,
    ("GET", "mappings/unmatched"): _mappings_unmatched,
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
    ("GET", "scenarios"): _scenarios_list,
    ("POST", "scenarios/reset"): _scenarios_reset,
    ("POST", "reset"): _reset,
    ("POST", "recordings/start"): _recordings_start,
    ("POST", "recordings/stop"): _recordings_stop,
    ("GET", "recordings/status"): _recordings_status,
    ("POST", "shutdown"): _shutdown,
    ("GET", "settings"): _settings_get,
    ("POST", "settings"): _settings_set,
    ("PUT", "settings"): _settings_set,
}
_ITEM_ROUTES: list[tuple[str, re.Pattern[str], ItemHandler]] = [
    ("GET", re.compile(r"mappings/([^/]+)"), _mapping_get),
    ("PUT", re.compile(r"mappings/([^/]+)"), _mapping_put),
    ("DELETE", re.compile(r"mappings/([^/]+)"), _mapping_delete),
    ("GET", re.compile(r"requests/([^/]+)"), _request_get),
    ("DELETE", re.compile(r"requests/([^/]+)"), _request_delete),
    ("PUT", re.compile(r"scenarios/([^/]+)/state"), _scenario_set_state),
]


def handle_admin(app: StubApp, method: str, url: str, body: bytes) -> AdminResult:
    """Route one admin call.  ``url`` is the full request target starting with ``/__admin``."""
    from urllib.parse import unquote

    path, _, query = url.partition("?")
    rest = path[len("/__admin") :].strip("/")
    q = parse_query(query)
    try:
        handler = _ROUTES.get((method, rest))
        if handler is not None:
            return handler(app, q, body)
        for m, regex, item_handler in _ITEM_ROUTES:
            if m == method:
                found = regex.fullmatch(rest)
                if found:
                    return item_handler(app, unquote(found.group(1)), body)
        return 404, EmptyWithReason(
            f"{method} {path} is not an admin endpoint (stackrig serves WireMock's mappings, requests, "
            "near-misses, scenarios, recordings, settings, reset and health endpoints)"
        )
    except _Fail as fail:
        return fail.status, fail.body
