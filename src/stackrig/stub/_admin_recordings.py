"""The ``/__admin/recordings`` endpoints: ``start``, ``stop``, ``status`` and ``snapshot``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._admin_common import NOT_RECORDING, AdminResult, Fail, Handler, invalid, parse_json
from ._errors import MappingError
from ._record_spec import RecordSpec, parse_record_spec

if TYPE_CHECKING:
    from ._app import StubApp

__all__ = ["ROUTES"]

Query = dict[str, list[str]]


def _spec_from(body: bytes, *, required: bool) -> RecordSpec:
    try:
        return parse_record_spec(parse_json(body, required=required))
    except MappingError as exc:
        raise invalid(exc) from None


def _start(app: StubApp, q: Query, body: bytes) -> AdminResult:
    app.recorder.start(_spec_from(body, required=True))
    return 200, {}


def _stop(app: StubApp, q: Query, body: bytes) -> AdminResult:
    if app.recorder.status != "Recording":
        raise Fail(400, NOT_RECORDING, "Not currently recording.", "POST /__admin/recordings/start first")
    return 200, app.recorder.stop()


def _status(app: StubApp, q: Query, body: bytes) -> AdminResult:
    return 200, {"status": app.recorder.status}


def _snapshot(app: StubApp, q: Query, body: bytes) -> AdminResult:
    return 200, app.recorder.snapshot(_spec_from(body, required=False))


ROUTES: dict[tuple[str, str], Handler] = {
    ("POST", "recordings/start"): _start,
    ("POST", "recordings/stop"): _stop,
    ("GET", "recordings/status"): _status,
    ("POST", "recordings/snapshot"): _snapshot,
}
