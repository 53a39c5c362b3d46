"""The values templates work on: the ``request`` model (``request.path.[0]``, ``request.headers.X``
...), how a value prints (``render_value``, Java/Handlebars style), what counts as true, and
how one path segment is looked up in a value (``step``).
"""

from __future__ import annotations

import base64 as _b64
import uuid
from typing import Any

from ._request import Request

__all__ = ["CaseInsensitiveDict", "ListOrSingle", "PathValue", "render_value", "request_model", "step", "truthy"]


class ListOrSingle(list[Any]):
    """A repeatable value (query parameter, header): renders as its first value, indexes as a list."""

    def __str__(self) -> str:
        return render_value(self[0]) if self else ""


class PathValue(str):
    """``request.path``: renders as the path; ``.[n]`` is a segment, ``.name`` a template variable."""

    segments: list[str]
    variables: dict[str, str]

    def lookup(self, key: str) -> Any:
        if key.isdigit():
            i = int(key)
            return self.segments[i] if i < len(self.segments) else None
        return self.variables.get(key)


class CaseInsensitiveDict(dict[str, Any]):
    def lookup(self, key: str) -> Any:
        return self.get(key.lower())


def request_model(req: Request, path_vars: dict[str, str], base_url: str) -> dict[str, Any]:
    """The ``request`` object that templates see."""
    path = PathValue(req.path)
    path.segments = req.path_segments
    path.variables = path_vars
    headers = CaseInsensitiveDict()
    for name, values in req.header_map.items():
        headers[name] = ListOrSingle(values)
    host, _, port = base_url.rpartition("//")[2].partition(":")
    return {
        "id": str(uuid.uuid4()),
        "url": req.url,
        "path": path,
        "pathSegments": req.path_segments,
        "method": req.method,
        "query": {k: ListOrSingle(v) for k, v in req.query.items()},
        "headers": headers,
        "cookies": {k: ListOrSingle(v) for k, v in req.cookies.items()},
        "body": req.text,
        "bodyAsBase64": _b64.b64encode(req.body).decode("ascii"),
        "baseUrl": base_url,
        "host": host,
        "port": port,
        "scheme": "http",
        "clientIp": req.client_ip,
    }


def render_value(value: Any) -> str:
    """How Java/Handlebars prints a value."""
    if value is None:
        return ""
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, ListOrSingle):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(render_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={render_value(v)}" for k, v in value.items()) + "}"
    return str(value)


def truthy(value: Any) -> bool:
    if isinstance(value, (list, dict, str)):
        return len(value) > 0
    return value is not None and value is not False and value != 0


def step(value: Any, key: str) -> Any:
    if value is None:
        return None
    if isinstance(value, (PathValue, CaseInsensitiveDict)):
        return value.lookup(key)
    if isinstance(value, dict):
        if key in value:
            return value[key]
        return None
    if isinstance(value, list):
        if key.isdigit():
            i = int(key)
            return value[i] if i < len(value) else None
        if key in ("size", "length"):
            return len(value)
        if isinstance(value, ListOrSingle) and value:
            return step(value[0], key)
        return None
    if isinstance(value, str) and key in ("length", "size"):
        return len(value)
    return None
