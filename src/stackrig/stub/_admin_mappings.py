"""The ``/__admin/mappings`` endpoints: list, create, edit and remove stubs, save and import them,
reset them to the mapping files, and find or remove them by their ``metadata``.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from ._admin_common import (
    DUPLICATE_ID,
    JSON_PARSE,
    AdminResult,
    Fail,
    Handler,
    ItemHandler,
    int_param,
    invalid,
    mapping_from,
    parse_json,
    string_pattern_from,
)
from ._errors import MappingError
from ._files import MAPPINGS_DIR
from ._jackson import jackson_pretty
from ._mapping import StubMapping
from ._store import DuplicateStubId

if TYPE_CHECKING:
    from pathlib import Path

    from ._app import StubApp

__all__ = ["ITEM_ROUTES", "ROUTES", "metadata_text"]

Query = dict[str, list[str]]


def _mappings_list(app: StubApp, q: Query, body: bytes) -> AdminResult:
    stubs = [s.to_json() for s in app.store]
    offset = int_param(q, "offset") or 0
    limit = int_param(q, "limit")
    page = stubs[offset : offset + limit if limit is not None else None]
    return 200, {"mappings": page, "meta": {"total": len(stubs)}}


def _mappings_create(app: StubApp, q: Query, body: bytes) -> AdminResult:
    stub = mapping_from(body)
    try:
        app.store.add(stub)
    except DuplicateStubId:
        raise Fail(
            422, DUPLICATE_ID, "Duplicate stub mapping ID", f"a stub with id {stub.id} already exists", "/id"
        ) from None
    if stub.persistent and app.root is not None:
        _save(app, stub)
    return 201, stub.to_json()


def _save(app: StubApp, stub: StubMapping, path: Path | None = None) -> None:
    """Write the stub to its file (``path``: the one it was loaded from or saved to; else ``<id>.json``)."""
    assert app.root is not None
    folder = app.root / MAPPINGS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = path or folder / f"{stub.id}.json"
    path.write_text(json.dumps(stub.to_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    stub.source = path


def _mappings_delete_all(app: StubApp, q: Query, body: bytes) -> AdminResult:
    app.store.clear()
    return 200, None


def _mappings_reset(app: StubApp, q: Query, body: bytes) -> AdminResult:
    # WireMock's resetToDefaultMappings: the stubs of the mapping files only (API-added ones go),
    # every scenario back at Started, and an empty request journal.
    app.reset()
    return 200, None


def _mappings_save(app: StubApp, q: Query, body: bytes) -> AdminResult:
    if app.root is None:
        raise Fail(400, 400, "no --root folder to save mappings into")
    for stub in app.store:
        if stub.source is None:
            _save(app, stub)
    return 200, None


def _mappings_import(app: StubApp, q: Query, body: bytes) -> AdminResult:
    raw = parse_json(body)
    if not isinstance(raw, dict) or not isinstance(raw.get("mappings"), list):
        raise Fail(422, JSON_PARSE, "Error parsing JSON", 'expected {"mappings": [...], "importOptions": {...}}')
    options = raw.get("importOptions") or {}
    overwrite = options.get("duplicatePolicy", "OVERWRITE") == "OVERWRITE"
    stubs = []
    for i, item in enumerate(raw["mappings"]):
        try:
            stubs.append(StubMapping(item))
        except MappingError as exc:
            raise invalid(exc, f"/mappings/{i}") from None
    if options.get("deleteAllNotInImport"):
        app.store.clear()
    for stub in stubs:
        if app.store.get(stub.id) is not None:
            if overwrite:
                app.store.replace(stub)
        else:
            app.store.add(stub)
    return 200, None


def _mappings_unmatched(app: StubApp, q: Query, body: bytes) -> AdminResult:
    used = {e.stub_id for e in app.journal.oldest_first()}
    stubs = [s.to_json() for s in app.store if s.id not in used]
    return 200, {"mappings": stubs, "meta": {"total": len(stubs)}}


def metadata_text(stub: StubMapping) -> str:
    """The text WireMock matches a metadata pattern against: the metadata as Jackson prints it."""
    return jackson_pretty(stub.metadata)


def _find_by_metadata(app: StubApp, q: Query, body: bytes) -> AdminResult:
    pattern = string_pattern_from(body)
    found = [s.to_json() for s in app.store if pattern.matches(metadata_text(s))]
    return 200, {"mappings": found, "meta": {"total": len(found)}}


def _remove_by_metadata(app: StubApp, q: Query, body: bytes) -> AdminResult:
    pattern = string_pattern_from(body)
    for stub in [s for s in app.store if pattern.matches(metadata_text(s))]:
        app.store.remove(stub.id)
    return 200, {}


def _mapping_get(app: StubApp, stub_id: str, body: bytes) -> AdminResult:
    stub = app.store.get(stub_id)
    return (200, stub.to_json()) if stub is not None else (404, None)


def _mapping_put(app: StubApp, stub_id: str, body: bytes) -> AdminResult:
    old = app.store.get(stub_id)
    if old is None:
        return 404, None
    stub = mapping_from(body, forced_id=stub_id.lower())
    app.store.replace(stub)
    if stub.persistent and app.root is not None:  # as WireMock: a persistent stub's file follows its edits
        _save(app, stub, old.source)
    return 200, stub.to_json()


def _mapping_delete(app: StubApp, stub_id: str, body: bytes) -> AdminResult:
    stub = app.store.remove(stub_id)
    if stub is None:
        return 404, None
    if stub.persistent and stub.source is not None:  # as WireMock: a persistent stub's file goes with it
        stub.source.unlink(missing_ok=True)
    return 200, None


ROUTES: dict[tuple[str, str], Handler] = {
    ("GET", "mappings"): _mappings_list,
    ("POST", "mappings"): _mappings_create,
    ("DELETE", "mappings"): _mappings_delete_all,
    ("POST", "mappings/reset"): _mappings_reset,
    ("POST", "mappings/save"): _mappings_save,
    ("POST", "mappings/import"): _mappings_import,
    ("GET", "mappings/unmatched"): _mappings_unmatched,
    ("POST", "mappings/find-by-metadata"): _find_by_metadata,
    ("POST", "mappings/remove-by-metadata"): _remove_by_metadata,
}
ITEM_ROUTES: list[tuple[str, re.Pattern[str], ItemHandler]] = [
    ("GET", re.compile(r"mappings/([^/]+)"), _mapping_get),
    ("PUT", re.compile(r"mappings/([^/]+)"), _mapping_put),
    ("DELETE", re.compile(r"mappings/([^/]+)"), _mapping_delete),
]
