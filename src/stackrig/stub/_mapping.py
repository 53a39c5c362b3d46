"""WireMock stub mappings: parse and validate the JSON (naming the JSON path of any mistake),
keep it for the admin API, and prepare the response (pre-rendered bytes when it is static)."""

from __future__ import annotations

import base64
import json
import random
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any

from ._errors import MappingError
from ._matchers import _did_you_mean
from ._pattern import RequestPattern

__all__ = ["DEFAULT_PRIORITY", "FAULTS", "ResponseDefinition", "StubMapping", "parse_mapping"]

DEFAULT_PRIORITY = 5
FAULTS = ("CONNECTION_RESET_BY_PEER", "EMPTY_RESPONSE", "MALFORMED_RESPONSE_CHUNK", "RANDOM_DATA_THEN_CLOSE")
_MAPPING_KEYS = (
    "id",
    "uuid",
    "name",
    "request",
    "response",
    "priority",
    "persistent",
    "scenarioName",
    "requiredScenarioState",
    "newScenarioState",
    "postServeActions",
    "serveEventListeners",
    "metadata",
    "insertionIndex",
)
_RESPONSE_KEYS = (
    "status",
    "statusMessage",
    "headers",
    "additionalProxyRequestHeaders",
    "removeProxyRequestHeaders",
    "body",
    "jsonBody",
    "base64Body",
    "bodyFileName",
    "fixedDelayMilliseconds",
    "delayDistribution",
    "chunkedDribbleDelay",
    "fault",
    "transformers",
    "transformerParameters",
    "proxyBaseUrl",
    "proxyUrlPrefixToRemove",
    "fromConfiguredStub",
)
_SKIP_HEADERS = {"content-length", "transfer-encoding", "connection"}


def reason_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


@dataclass
class Delay:
    """fixedDelayMilliseconds plus an optional delayDistribution; ``sample()`` is in seconds."""

    fixed_ms: float = 0.0
    kind: str = ""
    a: float = 0.0
    b: float = 0.0

    def sample(self) -> float:
        ms = self.fixed_ms
        if self.kind == "uniform":
            ms += random.uniform(self.a, self.b)
        elif self.kind == "lognormal":
            ms += random.lognormvariate(0.0, self.b) * self.a if self.a > 0 else 0.0
        elif self.kind == "fixed":
            ms += self.a
        return ms / 1000.0

    @property
    def active(self) -> bool:
        return bool(self.fixed_ms or self.kind)


@dataclass
class ResponseDefinition:
    status: int = 200
    status_message: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | None = None
    body_template: str | None = None
    json_template: Any = None
    body_file: str | None = None
    delay: Delay = field(default_factory=Delay)
    dribble: tuple[int, float] | None = None
    fault: str | None = None
    templated: bool = False
    proxy_base_url: str | None = None
    proxy_prefix_to_remove: str = ""
    proxy_extra_headers: list[tuple[str, str]] = field(default_factory=list)
    prerendered: bytes | None = None
    prerendered_head: bytes | None = None
    body_kind: str = ""  # which of body / jsonBody / base64Body / bodyFileName is used

    def head(self, stub_id: str, headers: list[tuple[str, str]], length: int | None) -> bytes:
        """Status line and headers (without the blank line)."""
        reason = self.status_message if self.status_message is not None else reason_phrase(self.status)
        lines = [f"HTTP/1.1 {self.status} {reason}"]
        for name, value in headers:
            if name.lower() not in _SKIP_HEADERS:
                lines.append(f"{name}: {value}")
        lines.append(f"Matched-Stub-Id: {stub_id}")
        if length is not None and not (self.status < 200 or self.status in (204, 304)):
            lines.append(f"Content-Length: {length}")
        return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _require(cond: bool, message: str, path: str, hint: str | None = None) -> None:
    if not cond:
        raise MappingError(message, json_path=path, hint=hint)


def _check_keys(obj: dict[str, Any], allowed: tuple[str, ...], path: str, what: str) -> None:
    for key in obj:
        if key not in allowed:
            raise MappingError(
                f"unknown {what} field '{key}'{_did_you_mean(key, allowed)}",
                json_path=f"{path}.{key}",
                hint=f"{what} fields are: " + ", ".join(allowed),
            )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _parse_headers(raw: Any, path: str) -> list[tuple[str, str]]:
    _require(isinstance(raw, dict), "headers must be an object of name: value (or list of values)", path)
    out: list[tuple[str, str]] = []
    for name, value in raw.items():
        for v in value if isinstance(value, list) else [value]:
            _require(
                isinstance(v, (str, int, float)) and not isinstance(v, bool),
                f"header {name} must be a string or a list of strings, found {json.dumps(v)}",
                f"{path}.{name}",
            )
            out.append((name, v if isinstance(v, str) else json.dumps(v)))
    return out


def _parse_delay(raw: dict[str, Any], path: str) -> Delay:
    delay = Delay()
    if raw.get("fixedDelayMilliseconds") is not None:
        ms = raw["fixedDelayMilliseconds"]
        _require(
            _is_int(ms) and ms >= 0,
            f"fixedDelayMilliseconds must be a non-negative integer, found {json.dumps(ms)}",
            f"{path}.fixedDelayMilliseconds",
        )
        delay.fixed_ms = float(ms)
    dist = raw.get("delayDistribution")
    if dist is not None:
        dpath = f"{path}.delayDistribution"
        _require(isinstance(dist, dict), "delayDistribution must be an object with a 'type'", dpath)
        kind = dist.get("type")
        if kind == "uniform":
            lo, hi = dist.get("lower"), dist.get("upper")
            _require(_is_int(lo) and _is_int(hi) and 0 <= lo <= hi, "uniform needs integer 'lower' <= 'upper'", dpath)
            delay.kind, delay.a, delay.b = "uniform", float(lo), float(hi)
        elif kind == "lognormal":
            median, sigma = dist.get("median"), dist.get("sigma")
            _require(
                isinstance(median, (int, float)) and isinstance(sigma, (int, float)),
                "lognormal needs numeric 'median' and 'sigma'",
                dpath,
            )
            delay.kind, delay.a, delay.b = "lognormal", float(median), float(sigma)
        elif kind == "fixed":
            ms = dist.get("milliseconds")
            _require(_is_int(ms) and ms >= 0, "fixed needs integer 'milliseconds'", dpath)
            delay.kind, delay.a = "fixed", float(ms)
        else:
            raise MappingError(
                f"unknown delayDistribution type {json.dumps(kind)}",
                json_path=f"{dpath}.type",
                hint='use "uniform", "lognormal" or "fixed"',
            )
    return delay


def _check_templates(raw: dict[str, Any], path: str) -> None:
    from ._template import TemplateError, compile_template

    sources: list[tuple[str, Any]] = [
        (f"{path}.body", raw.get("body")),
        (f"{path}.bodyFileName", raw.get("bodyFileName")),
    ]
    if raw.get("jsonBody") is not None:
        sources.append((f"{path}.jsonBody", json.dumps(raw["jsonBody"], ensure_ascii=False)))
    if isinstance(raw.get("headers"), dict):
        for name, value in raw["headers"].items():
            for v in value if isinstance(value, list) else [value]:
                sources.append((f"{path}.headers.{name}", v))
    for where, text in sources:
        if isinstance(text, str):
            try:
                compile_template(text)
            except TemplateError as exc:
                raise MappingError(
                    f"bad response template: {exc}",
                    json_path=where,
                    hint="check the {{ }} and {{#block}}...{{/block}} pairs; WireMock templates are Handlebars",
                ) from None


def parse_response(raw: Any, path: str = "$.response") -> ResponseDefinition:
    _require(isinstance(raw, dict), f"response must be an object, found {json.dumps(raw)}", path)
    _check_keys(raw, _RESPONSE_KEYS, path, "response")
    resp = ResponseDefinition()
    status = raw.get("status", 200)
    _require(
        _is_int(status) and 100 <= status <= 999,
        f"status must be an HTTP status code (100-999), found {json.dumps(status)}",
        f"{path}.status",
        hint='write the status as a number, e.g. "status": 201',
    )
    resp.status = status
    if raw.get("statusMessage") is not None:
        _require(isinstance(raw["statusMessage"], str), "statusMessage must be a string", f"{path}.statusMessage")
        resp.status_message = raw["statusMessage"].replace("\r", " ").replace("\n", " ")
    if raw.get("headers") is not None:
        resp.headers = _parse_headers(raw["headers"], f"{path}.headers")
    # Like WireMock, the first of body > jsonBody > base64Body wins (bodyFileName only without them).
    resp.body_kind = next((k for k in ("body", "jsonBody", "base64Body", "bodyFileName") if raw.get(k) is not None), "")
    transformers = raw.get("transformers") or []
    _require(
        isinstance(transformers, list) and all(isinstance(t, str) for t in transformers),
        "transformers must be a list of names",
        f"{path}.transformers",
    )
    for i, name in enumerate(transformers):
        _require(
            name == "response-template",
            f"unknown transformer {json.dumps(name)}",
            f"{path}.transformers[{i}]",
            hint='stackrig supports the "response-template" transformer',
        )
    resp.templated = "response-template" in transformers
    if resp.templated:
        _check_templates(raw, path)
    if raw.get("body") is not None:
        body = raw["body"]
        _require(
            isinstance(body, str),
            f"body must be a string (use jsonBody for JSON values), found {json.dumps(body)[:60]}",
            f"{path}.body",
        )
        if resp.templated:
            resp.body_template = body
        else:
            resp.body = body.encode("utf-8")
    elif "jsonBody" in raw and raw["jsonBody"] is not None:
        if resp.templated:
            resp.json_template = raw["jsonBody"]
        else:
            resp.body = json.dumps(raw["jsonBody"], ensure_ascii=False).encode("utf-8")
    elif raw.get("base64Body") is not None:
        try:
            resp.body = base64.b64decode(raw["base64Body"], validate=True)
        except (ValueError, TypeError):
            raise MappingError("base64Body is not valid base64", json_path=f"{path}.base64Body") from None
    elif raw.get("bodyFileName") is not None:
        _require(isinstance(raw["bodyFileName"], str), "bodyFileName must be a string", f"{path}.bodyFileName")
        resp.body_file = raw["bodyFileName"]
    resp.delay = _parse_delay(raw, path)
    dribble = raw.get("chunkedDribbleDelay")
    if dribble is not None:
        ok = (
            isinstance(dribble, dict)
            and _is_int(dribble.get("numberOfChunks"))
            and _is_int(dribble.get("totalDuration"))
        )
        _require(
            ok and dribble["numberOfChunks"] > 0,
            "chunkedDribbleDelay needs integer numberOfChunks (>0) and totalDuration",
            f"{path}.chunkedDribbleDelay",
        )
        resp.dribble = (dribble["numberOfChunks"], dribble["totalDuration"] / 1000.0)
    fault = raw.get("fault")
    if fault is not None:
        _require(
            fault in FAULTS,
            f"unknown fault {json.dumps(fault)}{_did_you_mean(str(fault), FAULTS)}",
            f"{path}.fault",
            hint="faults are: " + ", ".join(FAULTS),
        )
        resp.fault = fault
    if raw.get("proxyBaseUrl") is not None:
        base = raw["proxyBaseUrl"]
        _require(
            isinstance(base, str) and base.startswith(("http://", "https://")),
            "proxyBaseUrl must be an http(s):// URL",
            f"{path}.proxyBaseUrl",
        )
        resp.proxy_base_url = base.rstrip("/")
        resp.proxy_prefix_to_remove = str(raw.get("proxyUrlPrefixToRemove") or "")
        if raw.get("additionalProxyRequestHeaders"):
            resp.proxy_extra_headers = _parse_headers(
                raw["additionalProxyRequestHeaders"], f"{path}.additionalProxyRequestHeaders"
            )
    return resp


class StubMapping:
    """One stub: the request pattern, the response, its scenario and the JSON it came from."""

    def __init__(self, raw: Any, *, source: Path | None = None) -> None:
        if not isinstance(raw, dict):
            raise MappingError(f"a stub mapping must be a JSON object, found {json.dumps(raw)[:60]}")
        _check_keys(raw, _MAPPING_KEYS, "$", "mapping")
        stub_id = raw.get("id") or raw.get("uuid") or str(uuid.uuid4())
        _require(isinstance(stub_id, str), "id must be a UUID string", "$.id")
        try:
            self.id = str(uuid.UUID(stub_id))
        except ValueError:
            raise MappingError(
                f"id {json.dumps(stub_id)} is not a UUID", json_path="$.id", hint="omit the id to have one generated"
            ) from None
        self.request = RequestPattern(raw.get("request", {}), "$.request")  # WireMock: no request = any
        self.response = parse_response(raw.get("response", {}), "$.response")
        priority = raw.get("priority")
        _require(
            priority is None or _is_int(priority),
            f"priority must be an integer, found {json.dumps(priority)}",
            "$.priority",
        )
        self.priority: int | None = priority
        for key in ("name", "scenarioName", "requiredScenarioState", "newScenarioState"):
            _require(raw.get(key) is None or isinstance(raw[key], str), f"{key} must be a string", f"$.{key}")
        self.name: str | None = raw.get("name")
        self.scenario: str | None = raw.get("scenarioName")
        self.required_state: str | None = raw.get("requiredScenarioState")
        self.new_state: str | None = raw.get("newScenarioState")
        metadata = raw.get("metadata")
        _require(metadata is None or isinstance(metadata, dict), "metadata must be a JSON object", "$.metadata")
        self.metadata: dict[str, Any] | None = metadata
        self.persistent = bool(raw.get("persistent", False))
        self.source = source
        self.insertion = 0
        body = {k: v for k, v in raw.items() if k not in ("id", "uuid", "insertionIndex")}
        body["request"] = self.request.to_json()
        if isinstance(raw.get("response"), dict):
            body["response"] = {
                k: v
                for k, v in raw["response"].items()
                if k not in ("body", "jsonBody", "base64Body", "bodyFileName") or k == self.response.body_kind
            }
        self._json = body
        self._prerender()

    @property
    def sort_priority(self) -> int:
        return self.priority if self.priority is not None else DEFAULT_PRIORITY

    def _prerender(self) -> None:
        r = self.response
        if r.templated or r.fault or r.delay.active or r.dribble or r.proxy_base_url or r.body_file:
            return
        body = r.body or b""
        head = r.head(self.id, r.headers, len(body))
        r.prerendered_head = head
        r.prerendered = head + b"\r\n" + body

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id}
        out.update(self._json)
        out["uuid"] = self.id
        return out

    def describe(self) -> str:
        label = f" ({self.name})" if self.name else ""
        return f"{self.request.describe()}{label} [{self.id}]"


def parse_mapping(raw: Any, source: Path | None = None) -> StubMapping:
    return StubMapping(raw, source=source)
