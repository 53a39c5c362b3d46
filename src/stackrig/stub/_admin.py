"""WireMock's admin API under ``/__admin``: route each call to its handler.

The handlers of mappings, of the request journal and near misses, and of recordings are in
``_admin_mappings``, ``_admin_requests`` and ``_admin_recordings``; scenarios, reset, settings,
health and shutdown are here.  Each handler returns ``(status, json_or_None)``; errors follow
WireMock's ``{"errors": [{"code", "source": {"pointer"}, "title", "detail"}]}`` shape.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from . import _admin_mappings, _admin_recordings, _admin_requests
from ._admin_common import (
    BAD_STATE,
    JSON_PARSE,
    AdminResult,
    EmptyWithReason,
    Fail,
    Handler,
    ItemHandler,
    parse_json,
)
from ._request import parse_query
from ._store import STARTED

if TYPE_CHECKING:
    from ._app import StubApp

__all__ = ["AdminResult", "EmptyWithReason", "handle_admin"]

Query = dict[str, list[str]]


# -- scenarios, reset, settings, health, shutdown ---------------------------------------------------


def _scenarios_list(app: StubApp, q: Query, body: bytes) -> AdminResult:
    return 200, {"scenarios": app.store.scenarios()}


def _scenarios_reset(app: StubApp, q: Query, body: bytes) -> AdminResult:
    app.store.reset_scenarios()
    return 200, None


def _scenario_set_state(app: StubApp, name: str, body: bytes) -> AdminResult:
    scenarios = {s["name"]: s for s in app.store.scenarios()}
    if name not in scenarios:
        raise Fail(404, 404, "Scenario not found", f"no scenario named {name!r}; known: {sorted(scenarios) or 'none'}")
    raw = parse_json(body, required=False)
    state = raw.get("state") if isinstance(raw, dict) else None
    if state is None:
        app.store.reset_scenario(name)
        return 200, None
    possible = scenarios[name]["possibleStates"]
    if state not in possible and state != STARTED:
        raise Fail(
            422,
            BAD_STATE,
            "Invalid scenario state",
            f"state {state!r} is not a possible state of scenario {name!r}; possible: {possible}",
        )
    app.store.set_state(name, str(state))
    return 200, None


def _reset(app: StubApp, q: Query, body: bytes) -> AdminResult:
    app.reset()
    return 200, None


def _settings_get(app: StubApp, q: Query, body: bytes) -> AdminResult:
    return 200, {"settings": {"fixedDelay": app.global_delay_ms}}


def _settings_set(app: StubApp, q: Query, body: bytes) -> AdminResult:
    raw = parse_json(body)
    delay = raw.get("fixedDelay", 0) if isinstance(raw, dict) else None
    if delay is None:
        delay = 0
    if not isinstance(delay, int) or isinstance(delay, bool) or delay < 0:
        raise Fail(
            422,
            JSON_PARSE,
            "Error parsing JSON",
            f"fixedDelay must be a non-negative integer (ms), found {json.dumps(delay)}",
            "/fixedDelay",
        )
    app.global_delay_ms = delay
    return 200, None


def _health(app: StubApp, q: Query, body: bytes) -> AdminResult:
    return 200, {"status": "healthy", "message": "stackrig stub server is ok", "version": "3.13.2-stackrig"}


def _version(app: StubApp, q: Query, body: bytes) -> AdminResult:
    return 200, {"version": "3.13.2-stackrig"}


def _shutdown(app: StubApp, q: Query, body: bytes) -> AdminResult:
    app.shutdown_requested = True
    return 200, None


_ROUTES: dict[tuple[str, str], Handler] = {
    ("GET", "health"): _health,
    ("GET", "version"): _version,
    **_admin_mappings.ROUTES,
    **_admin_requests.ROUTES,
    ("GET", "scenarios"): _scenarios_list,
    ("POST", "scenarios/reset"): _scenarios_reset,
    ("POST", "reset"): _reset,
    **_admin_recordings.ROUTES,
    ("POST", "shutdown"): _shutdown,
    ("GET", "settings"): _settings_get,
    ("POST", "settings"): _settings_set,
    ("PUT", "settings"): _settings_set,
}
_ITEM_ROUTES: list[tuple[str, re.Pattern[str], ItemHandler]] = [
    *_admin_mappings.ITEM_ROUTES,
    *_admin_requests.ITEM_ROUTES,
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
    except Fail as fail:
        return fail.status, fail.body
