"""What every admin handler shares: the result type, WireMock's ``{"errors": [...]}`` failures, and
reading a JSON body into a mapping, a request pattern or a string matcher with the JSON pointer of
any mistake.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._errors import MappingError
from ._mapping import StubMapping
from ._matchers import BinaryEqualTo, ValuePattern, parse_value_pattern
from ._pattern import RequestPattern

if TYPE_CHECKING:
    from ._app import StubApp

__all__ = [
    "BAD_STATE",
    "DUPLICATE_ID",
    "JSON_PARSE",
    "NOT_RECORDING",
    "AdminResult",
    "EmptyWithReason",
    "Fail",
    "Handler",
    "ItemHandler",
    "int_param",
    "invalid",
    "mapping_from",
    "parse_json",
    "pattern_from",
    "pointer",
    "string_pattern_from",
    "stub_json",
]

AdminResult = tuple[int, Any]
Handler = Callable[["StubApp", dict[str, list[str]], bytes], AdminResult]
ItemHandler = Callable[["StubApp", str, bytes], AdminResult]

JSON_PARSE = 10
BAD_STATE = 11
NOT_RECORDING = 30
DUPLICATE_ID = 109


class EmptyWithReason(str):
    """An answer WireMock gives with an empty body; the reason travels in an X-Stackrig-Error header."""

    __slots__ = ()


class Fail(Exception):
    """An admin call refused with WireMock's error body."""

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


def pointer(json_path: str) -> str:
    """``$.a.b[0]`` as the JSON pointer ``/a/b/0``."""
    path = re.sub(r"\[(\d+)\]", r".\1", json_path.lstrip("$"))
    return "/" + path.lstrip(".").replace(".", "/") if path else ""


def invalid(exc: MappingError, prefix: str = "") -> Fail:
    """WireMock's 422 for a body that parses as JSON but is not what the endpoint takes."""
    return Fail(422, JSON_PARSE, "Error parsing JSON", str(exc), prefix + pointer(exc.json_path))


def parse_json(body: bytes, *, required: bool = True) -> Any:
    if not body.strip():
        if required:
            raise Fail(422, JSON_PARSE, "Error parsing JSON", "the request body is empty; expected a JSON document")
        return None
    try:
        return json.loads(body)
    except ValueError as exc:
        raise Fail(422, JSON_PARSE, "Error parsing JSON", f"the request body is not valid JSON: {exc}") from None


def mapping_from(body: bytes, forced_id: str | None = None) -> StubMapping:
    raw = parse_json(body)
    if forced_id is not None and isinstance(raw, dict):
        raw = dict(raw, id=forced_id)
        raw.pop("uuid", None)
    try:
        return StubMapping(raw)
    except MappingError as exc:
        raise invalid(exc) from None


def pattern_from(body: bytes) -> RequestPattern:
    raw = parse_json(body, required=False)
    try:
        return RequestPattern(raw if raw is not None else {}, "$")
    except MappingError as exc:
        raise invalid(exc) from None


def string_pattern_from(body: bytes) -> ValuePattern:
    """A WireMock ``StringValuePattern`` such as ``{"matchesJsonPath": "$.tags"}`` (binaryEqualTo is not one)."""
    raw = parse_json(body)
    try:
        pattern = parse_value_pattern(raw, "$")
    except MappingError as exc:
        raise invalid(exc) from None
    if isinstance(pattern, BinaryEqualTo):
        raise Fail(
            422, JSON_PARSE, "Error parsing JSON", "binaryEqualTo matches bytes, not text; use equalTo or contains"
        )
    return pattern


def stub_json(app: StubApp, stub_id: str | None) -> dict[str, Any] | None:
    if stub_id is None:
        return None
    stub = app.store.get(stub_id)
    return stub.to_json() if stub is not None else None


def int_param(query: dict[str, list[str]], name: str) -> int | None:
    values = query.get(name)
    if not values:
        return None
    try:
        return int(values[0])
    except ValueError:
        raise Fail(400, 400, f"query parameter '{name}' must be an integer, found {values[0]!r}") from None
