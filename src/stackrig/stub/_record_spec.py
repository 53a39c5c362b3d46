"""WireMock's record spec: read and check the JSON body of ``/__admin/recordings/start`` and
``/__admin/recordings/snapshot`` (``targetBaseUrl``, ``filters``, ``captureHeaders``,
``requestBodyPattern``, ``extractBodyCriteria``, ``outputFormat``, ``persist``,
``repeatsAsScenarios``), naming the JSON path of any mistake.  Defaults are WireMock's.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from ._errors import MappingError
from ._matchers import _did_you_mean
from ._pattern import RequestPattern

__all__ = ["BODY_MATCHERS", "RecordSpec", "parse_record_spec"]

_KEYS = (
    "targetBaseUrl",
    "filters",
    "captureHeaders",
    "requestBodyPattern",
    "extractBodyCriteria",
    "outputFormat",
    "persist",
    "repeatsAsScenarios",
    "transformers",
    "transformerParameters",
)
BODY_MATCHERS = ("auto", "equalTo", "equalToJson", "equalToXml")
_SIZE = re.compile(r"([\d.]+)\s*(\w)?b?", re.IGNORECASE)
_SCALE = {"K": 1024, "M": 1024**2, "G": 1024**3}


@dataclass
class RecordSpec:
    """How proxied exchanges become stubs (see WireMock's ``RecordSpec``)."""

    target: str | None = None
    filters: RequestPattern | None = None
    ids: frozenset[str] | None = None
    capture_headers: dict[str, bool] = field(default_factory=dict)  # header name -> caseInsensitive
    body_matcher: str = "auto"
    ignore_array_order: bool = True
    ignore_extra_elements: bool = True
    case_insensitive: bool = False
    extract_text_over: int | None = None  # extract bodies longer than this to __files (None: never)
    extract_binary_over: int | None = None
    output_ids: bool = False
    persist: bool = True
    repeats_as_scenarios: bool = True

    @property
    def extracts(self) -> bool:
        return self.extract_text_over is not None or self.extract_binary_over is not None


def _bool(raw: dict[str, Any], key: str, default: bool, path: str) -> bool:
    value = raw.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise MappingError(f"{key} must be true or false, found {json.dumps(value)}", json_path=f"{path}.{key}")
    return value


def _size(value: Any, path: str) -> int | None:
    """WireMock's file-size notation: a number of bytes, or a string such as ``"10 KB"``."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        m = _SIZE.fullmatch(value.strip().replace(",", "."))
        if m is not None:
            unit = (m.group(2) or "").upper()
            if unit == "" or unit in _SCALE:
                try:
                    return round(float(m.group(1)) * _SCALE.get(unit, 1))
                except ValueError:
                    pass
    raise MappingError(
        f'a size must be a number of bytes or a string such as "10 KB", found {json.dumps(value)}',
        json_path=path,
    )


def _object(value: Any, path: str, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MappingError(f"{what} must be an object, found {json.dumps(value)[:80]}", json_path=path)
    return value


def _filters(spec: RecordSpec, raw: Any) -> None:
    path = "$.filters"
    obj = dict(_object(raw, path, "filters"))
    ids = obj.pop("ids", None)
    if ids is not None:
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise MappingError("filters.ids must be a list of serve event ids", json_path=f"{path}.ids")
        spec.ids = frozenset(i.lower() for i in ids)
    if _bool(obj, "allowNonProxied", False, path):
        raise MappingError(
            "allowNonProxied is not supported by stackrig's stub server: only proxied requests are recorded",
            json_path=f"{path}.allowNonProxied",
            hint="proxy the requests to record (targetBaseUrl, or a stub with proxyBaseUrl)",
        )
    obj.pop("allowNonProxied", None)
    if obj:
        spec.filters = RequestPattern(obj, path)


def _body_pattern(spec: RecordSpec, raw: Any) -> None:
    path = "$.requestBodyPattern"
    obj = _object(raw, path, "requestBodyPattern")
    matcher = obj.get("matcher", "auto")
    if matcher not in BODY_MATCHERS:
        raise MappingError(
            f"unknown requestBodyPattern matcher {json.dumps(matcher)}",
            json_path=f"{path}.matcher",
            hint="use one of: " + ", ".join(BODY_MATCHERS),
        )
    spec.body_matcher = matcher
    spec.ignore_array_order = _bool(obj, "ignoreArrayOrder", True, path)
    spec.ignore_extra_elements = _bool(obj, "ignoreExtraElements", True, path)
    spec.case_insensitive = _bool(obj, "caseInsensitive", False, path)


def parse_record_spec(raw: Any) -> RecordSpec:
    """A :class:`RecordSpec` from JSON (``None`` or ``{}``: WireMock's defaults)."""
    spec = RecordSpec()
    if raw is None:
        return spec
    obj = _object(raw, "$", "the record spec")
    for key in obj:
        if key not in _KEYS:
            raise MappingError(
                f"unknown record spec field '{key}'{_did_you_mean(key, _KEYS)}",
                json_path=f"$.{key}",
                hint="record spec fields are: " + ", ".join(_KEYS),
            )
    target = obj.get("targetBaseUrl")
    if target is not None and target != "":
        if not isinstance(target, str) or not target.startswith(("http://", "https://")):
            raise MappingError(
                f'expected {{"targetBaseUrl": "http://host:port"}}, found {json.dumps(target)[:200]}',
                json_path="$.targetBaseUrl",
            )
        spec.target = target.rstrip("/")
    if obj.get("filters") is not None:
        _filters(spec, obj["filters"])
    if obj.get("captureHeaders") is not None:
        headers = _object(obj["captureHeaders"], "$.captureHeaders", "captureHeaders")
        for name, options in headers.items():
            opts = _object(options if options is not None else {}, f"$.captureHeaders.{name}", "a captured header")
            spec.capture_headers[name] = _bool(opts, "caseInsensitive", False, f"$.captureHeaders.{name}")
    if obj.get("requestBodyPattern") is not None:
        _body_pattern(spec, obj["requestBodyPattern"])
    if obj.get("extractBodyCriteria") is not None:
        criteria = _object(obj["extractBodyCriteria"], "$.extractBodyCriteria", "extractBodyCriteria")
        text = _size(criteria.get("textSizeThreshold"), "$.extractBodyCriteria.textSizeThreshold")
        binary = _size(criteria.get("binarySizeThreshold"), "$.extractBodyCriteria.binarySizeThreshold")
        # WireMock: a threshold left out never triggers; both left out still name the criteria.
        spec.extract_text_over = text if text is not None else 2**63 - 1
        spec.extract_binary_over = binary if binary is not None else 2**63 - 1
    output = obj.get("outputFormat")
    if output is not None:
        if not isinstance(output, str) or output.lower() not in ("full", "ids"):
            raise MappingError('outputFormat must be "FULL" or "IDS"', json_path="$.outputFormat")
        spec.output_ids = output.lower() == "ids"
    spec.persist = _bool(obj, "persist", True, "$")
    spec.repeats_as_scenarios = _bool(obj, "repeatsAsScenarios", True, "$")
    if obj.get("transformers"):
        raise MappingError(
            "stub mapping transformers are not supported by stackrig's stub server",
            json_path="$.transformers",
            hint="leave transformers out; edit the recorded mappings instead",
        )
    return spec
