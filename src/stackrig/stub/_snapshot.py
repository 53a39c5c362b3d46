"""Turn proxied exchanges into stub mappings the way WireMock's recorder does.

A port of WireMock 3.13's snapshot pipeline: keep the exchanges the record spec's filters select
(newest first, as WireMock reads its journal), make a mapping of each (``RequestPatternTransformer``,
``LoggedResponseDefinitionTransformer``), turn repeats of one request into a scenario
(``ScenarioProcessor``: ``scenario-1-<path>``, states ``Started`` -> ``scenario-1-<path>-2`` -> ...)
or keep only the newest, move large bodies to ``__files`` (``extractBodyCriteria``), add the stubs
to the server and, with ``persist``, write them to ``mappings/`` under WireMock's file names.

One deliberate difference: a repeat whose response is identical to the one before it, at the end
of the sequence, is not added as a further scenario step (WireMock would add it).  Replaying gives
the same answers either way, since the last step of a scenario repeats.
"""

from __future__ import annotations

import base64
import json
import re
import unicodedata
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from ._files import FILES_DIR, MAPPINGS_DIR
from ._journal import UpstreamResponse, event_id
from ._mapping import StubMapping
from ._record_spec import RecordSpec
from ._request import NOT_JSON, Request
from ._xml import XmlError, xml_equal

if TYPE_CHECKING:
    from ._app import StubApp

__all__ = ["Exchange", "file_name_for", "sanitize_url", "stub_mappings_for", "take_snapshot"]

Exchange = tuple[int, Request, UpstreamResponse]  # (journal sequence number, request, upstream answer)

_TEXT_MIME = ("text", "json", "xml", "html", "yaml", "csv", "x-www-form-urlencoded")
_COMMON_EXTENSIONS = {
    "image/jpeg": "jpeg",
    "image/gif": "gif",
    "image/tiff": "tiff",
    "image/png": "png",
    "image/x-icon": "ico",
    "image/svg+xml": "svg",
    "audio/x-aiff": "aiff",
    "video/x-ms-asf": "asf",
    "video/mpeg": "mp2",
    "audio/mpeg": "mp3",
    "video/quicktime": "mov",
    "application/pdf": "pdf",
}
_KEY_ORDER = (
    "id",
    "name",
    "request",
    "response",
    "persistent",
    "scenarioName",
    "requiredScenarioState",
    "newScenarioState",
)
_NOT_WORD = re.compile(r"[^\w\-.]", re.ASCII)


def _mime(content_type: str | None) -> str | None:
    if not content_type:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None


def _charset(content_type: str | None) -> str:
    m = re.search(r"charset=\"?([\w.:-]+)", content_type or "", re.IGNORECASE)
    return m.group(1) if m else "utf-8"


def _is_text(mime: str | None) -> bool:
    return mime is not None and any(word in mime for word in _TEXT_MIME)


def _sanitise(text: str) -> str:
    return _NOT_WORD.sub("", text.replace(" ", "-")).lower()


def sanitize_url(path: str) -> str:
    """WireMock's ``FilenameMaker.sanitizeUrl``: the name a recorded stub gets from its URL path."""
    slug = re.sub(r"\s", "-", path.replace("/", "_"))
    slug = _sanitise(unicodedata.normalize("NFD", slug)).strip("_")
    return slug[:200]


def file_name_for(mapping: dict[str, Any], extension: str = "json") -> str:
    """WireMock's default file name: ``<name>-<id>.<ext>``, or ``<method>-<url>-<id>.<ext>`` without a name."""
    request = mapping.get("request", {})
    url = next((request[k] for k in ("url", "urlPath", "urlPattern", "urlPathPattern") if k in request), "")
    stem = mapping.get("name") or f"{request.get('method', 'ANY')}-{url}"
    return _sanitise(f"{stem}-{mapping['id']}.{extension}")


def _url_path(url: str) -> str:
    return unquote(urlsplit(url).path)


# -- one exchange -> one mapping ----------------------------------------------------------------


def _body_pattern(spec: RecordSpec, req: Request) -> dict[str, Any] | None:
    text = req.text
    as_json = {"equalToJson": text, "ignoreArrayOrder": spec.ignore_array_order}
    as_json["ignoreExtraElements"] = spec.ignore_extra_elements
    as_text: dict[str, Any] = {"equalTo": text, "caseInsensitive": spec.case_insensitive}  # as WireMock writes it
    kind = spec.body_matcher
    if kind == "auto":
        mime = _mime(req.header("content-type"))
        if mime is None:
            kind = "equalToJson" if req.json is not NOT_JSON else "equalTo"  # stackrig: JSON without a type
        elif "json" in mime:
            kind = "equalToJson"
        elif "xml" in mime:
            kind = "equalToXml"
        elif mime == "multipart/form-data":
            return None  # WireMock records "anything" for multipart bodies
        elif not _is_text(mime):
            return {"binaryEqualTo": base64.b64encode(req.body).decode("ascii")}
        else:
            kind = "equalTo"
    if kind == "equalToJson" and req.json is not NOT_JSON:
        return as_json
    if kind == "equalToXml":
        try:
            xml_equal(text, text)
            return {"equalToXml": text}
        except XmlError:
            pass
    return as_text  # also when the body is not the JSON / XML the matcher expects


def _request_json(spec: RecordSpec, req: Request) -> dict[str, Any]:
    out: dict[str, Any] = {"url": req.url, "method": req.method}
    headers: dict[str, Any] = {}
    for name, case_insensitive in spec.capture_headers.items():
        value = req.header(name)
        if value is not None:
            headers[name] = {"equalTo": value, **({"caseInsensitive": True} if case_insensitive else {})}
    if headers:
        out["headers"] = headers
    if req.body:
        body = _body_pattern(spec, req)
        if body is not None:
            out["bodyPatterns"] = [body]
    return out


def _response_json(upstream: UpstreamResponse) -> dict[str, Any]:
    out: dict[str, Any] = {"status": upstream.status}
    body = upstream.body
    if body:
        content_type = upstream.header("content-type")
        mime = _mime(content_type)
        if _is_text(mime):
            out["body"] = body.decode(_charset(content_type), "replace")
        elif mime is not None:
            out["base64Body"] = base64.b64encode(body).decode("ascii")
        else:
            try:
                out["body"] = body.decode("utf-8")
            except UnicodeDecodeError:
                out["base64Body"] = base64.b64encode(body).decode("ascii")
    if upstream.headers:
        merged: dict[str, Any] = {}
        for name, value in upstream.headers:
            if name in merged:
                prev = merged[name]
                merged[name] = (prev if isinstance(prev, list) else [prev]) + [value]
            else:
                merged[name] = value
        out["headers"] = merged
    return out


def _mapping_json(spec: RecordSpec, req: Request, upstream: UpstreamResponse) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "name": sanitize_url(_url_path(req.url)),
        "request": _request_json(spec, req),
        "response": _response_json(upstream),
    }


# -- repeats: scenarios or the newest only -------------------------------------------------------


def _key(mapping: dict[str, Any]) -> str:
    return json.dumps(mapping["request"], sort_keys=True)


def _same_response(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return json.dumps(a["response"], sort_keys=True) == json.dumps(b["response"], sort_keys=True)


def _process_repeats(mappings: list[dict[str, Any]], as_scenarios: bool) -> list[dict[str, Any]]:
    """``mappings`` newest first; returns those to keep, in the same order."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for mapping in mappings:
        groups.setdefault(_key(mapping), []).append(mapping)
    if not as_scenarios:
        newest = {id(group[0]) for group in groups.values()}
        return [m for m in mappings if id(m) in newest]
    dropped: set[int] = set()
    index = 0
    for group in groups.values():
        steps = list(reversed(group))  # oldest first: the first answer is the Started step
        while len(steps) > 1 and _same_response(steps[-1], steps[-2]):
            dropped.add(id(steps.pop()))
        if len(steps) < 2:
            continue
        index += 1
        request = steps[0]["request"]
        parts = [p for p in _url_path(request.get("url") or request.get("urlPath") or "").split("/") if p]
        name = f"scenario-{index}-{'-'.join(parts)}"
        for count, mapping in enumerate(steps, 1):
            mapping["scenarioName"] = name
            mapping["requiredScenarioState"] = "Started" if count == 1 else f"{name}-{count}"
            if count < len(steps):
                mapping["newScenarioState"] = f"{name}-{count + 1}"
    return [m for m in mappings if id(m) not in dropped]


# -- bodies to __files ------------------------------------------------------------------------------


def _extension(url: str, content_type: str | None, body: bytes) -> str:
    mime = _mime(content_type)
    if mime is not None:
        for word, ext in (("json", "json"), ("xml", "xml"), ("text", "txt")):
            if word in mime:
                return ext
        if mime in _COMMON_EXTENSIONS:
            return _COMMON_EXTENSIONS[mime]
    last = _url_path(url).rpartition("/")[2]
    if "." in last:
        return last.rpartition(".")[2]
    text = body.decode(_charset(content_type), "replace")
    try:
        json.loads(text)
        return "json"
    except ValueError:
        pass
    try:
        xml_equal(text, text)
        return "xml"
    except XmlError:
        return "txt"


def _extract_body(spec: RecordSpec, mapping: dict[str, Any], root: Path) -> None:
    response = mapping["response"]
    if "body" in response:
        body = response["body"].encode("utf-8")
        size = len(response["body"])
    elif "base64Body" in response:
        body = base64.b64decode(response["base64Body"])
        size = len(body)
    else:
        return
    content_type = next((v for k, v in (response.get("headers") or {}).items() if k.lower() == "content-type"), None)
    if isinstance(content_type, list):
        content_type = content_type[0] if content_type else None
    text = _is_text(_mime(content_type))
    limit = spec.extract_text_over if text else spec.extract_binary_over
    if limit is None or size <= limit:
        return
    name = file_name_for(mapping, _extension(mapping["request"].get("url", ""), content_type, body))
    folder = root / FILES_DIR
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(body)
    mapping["response"] = {"status": response["status"], "bodyFileName": name} | {
        k: v for k, v in response.items() if k not in ("status", "body", "base64Body")
    }


# -- the whole pipeline ----------------------------------------------------------------------------


def _selected(exchanges: Iterable[Exchange], spec: RecordSpec) -> list[Exchange]:
    out = []
    for seq, req, upstream in exchanges:
        if spec.filters is not None and not spec.filters.matches(req):
            continue
        if spec.ids is not None and event_id(seq) not in spec.ids:
            continue
        out.append((seq, req, upstream))
    return out


def stub_mappings_for(exchanges: Iterable[Exchange], spec: RecordSpec, root: Path | None) -> list[dict[str, Any]]:
    """The mapping JSON for ``exchanges`` (newest first), bodies already extracted to ``root/__files``."""
    mappings = [_mapping_json(spec, req, upstream) for _, req, upstream in _selected(exchanges, spec)]
    mappings = _process_repeats(mappings, spec.repeats_as_scenarios)
    out = []
    for mapping in mappings:
        if spec.extracts and root is not None:
            _extract_body(spec, mapping, root)
        if spec.persist:
            mapping["persistent"] = True
        out.append({k: mapping[k] for k in _KEY_ORDER if k in mapping})
    return out


def take_snapshot(app: StubApp, exchanges: Iterable[Exchange], spec: RecordSpec) -> dict[str, Any]:
    """Add stubs for ``exchanges`` to ``app`` (and write them with ``persist``); WireMock's result JSON."""
    stubs = [StubMapping(raw) for raw in stub_mappings_for(exchanges, spec, app.root)]
    folder = app.root / MAPPINGS_DIR if app.root is not None and spec.persist else None
    for stub in stubs:
        app.store.add(stub)
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / file_name_for(stub.to_json())
            path.write_text(json.dumps(stub.to_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            stub.source = path
    if spec.output_ids:
        return {"ids": [s.id for s in stubs]}
    return {"mappings": [s.to_json() for s in stubs]}
