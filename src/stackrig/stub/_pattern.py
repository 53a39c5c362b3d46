"""WireMock request patterns: which requests a stub answers (and which ones ``verify`` counts).

``matches`` is the hot path; ``compare`` is the slow path that explains the differences for
near-miss reports and ``verify`` failures.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from typing import Any

from ._errors import MappingError
from ._matchers import (
    BinaryEqualTo,
    ValuePattern,
    _did_you_mean,
    compile_regex,
    parse_multi_pattern,
    parse_value_pattern,
)
from ._request import Request, parse_query

__all__ = ["URL_KEYS", "Difference", "RequestPattern"]

URL_KEYS = ("url", "urlPattern", "urlPath", "urlPathPattern", "urlPathTemplate")
_KEYS = (
    *URL_KEYS,
    "method",
    "queryParameters",
    "pathParameters",
    "formParameters",
    "headers",
    "cookies",
    "basicAuthCredentials",
    "bodyPatterns",
    "host",
    "port",
    "scheme",
)
_UNSUPPORTED = ("customMatcher", "multipartPatterns", "clientIp")
_TEMPLATE_VAR = re.compile(r"\{([^{}/]+)\}")


@dataclass(frozen=True)
class Difference:
    """One way a request differs from a pattern, for humans."""

    field: str
    expected: str
    actual: str

    def to_json(self) -> dict[str, str]:
        return {"field": self.field, "expected": self.expected, "actual": self.actual}


def _template_regex(template: str, path: str) -> tuple[re.Pattern[str], list[str]]:
    names: list[str] = []
    out = ["^"]
    pos = 0
    for m in _TEMPLATE_VAR.finditer(template):
        out.append(re.escape(template[pos : m.start()]))
        name = m.group(1)
        if name in names:
            raise MappingError(f"urlPathTemplate uses '{{{name}}}' twice", json_path=path)
        names.append(name)
        out.append(f"(?P<v{len(names) - 1}>[^/]+)")
        pos = m.end()
    out.append(re.escape(template[pos:]) + "$")
    return re.compile("".join(out)), names


def _map_of(obj: Any, path: str, what: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise MappingError(f"{what} must be an object of name: matcher, found {json.dumps(obj)}", json_path=path)
    return obj


class RequestPattern:
    """A parsed ``request`` block of a mapping (or the body of a journal query)."""

    def __init__(self, raw: Any, path: str = "$.request") -> None:
        if not isinstance(raw, dict):
            raise MappingError(f"request must be an object, found {json.dumps(raw)}", json_path=path)
        for key in raw:
            if key in _UNSUPPORTED:
                raise MappingError(f"'{key}' is not supported by stackrig's stub server", json_path=f"{path}.{key}")
            if key not in _KEYS:
                raise MappingError(
                    f"unknown request field '{key}'{_did_you_mean(key, _KEYS)}",
                    json_path=f"{path}.{key}",
                    hint="request fields are: " + ", ".join(_KEYS),
                )
        self.url_kind = next((k for k in URL_KEYS if raw.get(k) is not None), "")
        # WireMock keeps only the first URL matcher (url > urlPattern > urlPath > urlPathPattern > template).
        self.raw = {k: v for k, v in raw.items() if k not in URL_KEYS or k == self.url_kind}
        self.raw.setdefault("method", "ANY")
        self.url_value = ""
        self.url_regex: re.Pattern[str] | None = None
        self.template_vars: list[str] = []
        if self.url_kind:
            value = raw[self.url_kind]
            upath = f"{path}.{self.url_kind}"
            if not isinstance(value, str):
                raise MappingError(f"{self.url_kind} must be a string, found {json.dumps(value)}", json_path=upath)
            self.url_value = value
            if self.url_kind in ("urlPattern", "urlPathPattern"):
                self.url_regex = compile_regex(value, upath)
            elif self.url_kind == "urlPathTemplate":
                self.url_regex, self.template_vars = _template_regex(value, upath)
        method = raw.get("method", "ANY")
        if not isinstance(method, str) or not method:
            raise MappingError(
                f'method must be a string such as "GET", found {json.dumps(method)}', json_path=f"{path}.method"
            )
        self.method = None if method.upper() == "ANY" else method
        self.query = [
            (name, parse_multi_pattern(m, f"{path}.queryParameters.{name}"))
            for name, m in _map_of(raw.get("queryParameters", {}), f"{path}.queryParameters", "queryParameters").items()
        ]
        self.path_params = [
            (name, parse_value_pattern(m, f"{path}.pathParameters.{name}"))
            for name, m in _map_of(raw.get("pathParameters", {}), f"{path}.pathParameters", "pathParameters").items()
        ]
        for name, _ in self.path_params:
            if name not in self.template_vars:
                raise MappingError(
                    f"pathParameters.{name} names no variable of the urlPathTemplate",
                    json_path=f"{path}.pathParameters.{name}",
                    hint="use urlPathTemplate with {" + name + "} or remove the parameter",
                )
        self.form = [
            (name, parse_multi_pattern(m, f"{path}.formParameters.{name}"))
            for name, m in _map_of(raw.get("formParameters", {}), f"{path}.formParameters", "formParameters").items()
        ]
        self.headers = [
            (name.lower(), name, parse_multi_pattern(m, f"{path}.headers.{name}"))
            for name, m in _map_of(raw.get("headers", {}), f"{path}.headers", "headers").items()
        ]
        self.cookies = [
            (name, parse_multi_pattern(m, f"{path}.cookies.{name}"))
            for name, m in _map_of(raw.get("cookies", {}), f"{path}.cookies", "cookies").items()
        ]
        self.basic_auth: str | None = None
        creds = raw.get("basicAuthCredentials")
        if creds is not None:
            if not (
                isinstance(creds, dict)
                and isinstance(creds.get("username"), str)
                and isinstance(creds.get("password"), str)
            ):
                raise MappingError(
                    'basicAuthCredentials must be {"username": "...", "password": "..."}',
                    json_path=f"{path}.basicAuthCredentials",
                )
            token = base64.b64encode(f"{creds['username']}:{creds['password']}".encode()).decode("ascii")
            self.basic_auth = "Basic " + token
        bodies = raw.get("bodyPatterns", [])
        if not isinstance(bodies, list):
            raise MappingError("bodyPatterns must be a list of matchers", json_path=f"{path}.bodyPatterns")
        self.body = [parse_value_pattern(b, f"{path}.bodyPatterns[{i}]") for i, b in enumerate(bodies)]
        self.host = parse_value_pattern(raw["host"], f"{path}.host") if "host" in raw else None
        self.port = raw.get("port")
        self.scheme = raw.get("scheme")
        self._simple = not (
            self.query
            or self.path_params
            or self.form
            or self.headers
            or self.cookies
            or self.basic_auth
            or self.body
            or self.host
            or self.port is not None
            or self.scheme is not None
        )

    # -- hot path -------------------------------------------------------------------------

    def url_matches(self, req: Request) -> bool:
        kind = self.url_kind
        if kind == "url":
            return req.url == self.url_value
        if kind == "urlPath":
            return req.path == self.url_value
        if kind == "urlPattern":
            return self.url_regex.fullmatch(req.url) is not None  # type: ignore[union-attr]
        if kind == "urlPathPattern":
            return self.url_regex.fullmatch(req.path) is not None  # type: ignore[union-attr]
        if kind == "urlPathTemplate":
            return self.url_regex.match(req.path) is not None  # type: ignore[union-attr]
        return True

    def matches(self, req: Request) -> bool:
        if self.method is not None and req.method != self.method:
            return False
        if self.url_kind == "url":
            if req.url != self.url_value:
                return False
        elif not self.url_matches(req):
            return False
        if self._simple:
            return True
        return self._rest_matches(req)

    def _rest_matches(self, req: Request) -> bool:
        if self.path_params:
            variables = self.path_variables(req)
            if not all(p.matches(variables.get(n)) for n, p in self.path_params):
                return False
        if self.query:
            query = req.query
            if not all(m.matches(query.get(n)) for n, m in self.query):
                return False
        if self.headers:
            hmap = req.header_map
            if not all(m.matches(hmap.get(lname)) for lname, _, m in self.headers):
                return False
        if self.cookies:
            cookies = req.cookies
            if not all(m.matches(cookies.get(n)) for n, m in self.cookies):
                return False
        if self.basic_auth is not None and req.header("authorization") != self.basic_auth:
            return False
        if self.form:
            form = parse_query(req.text)
            if not all(m.matches(form.get(n)) for n, m in self.form):
                return False
        if self.body and not all(self.body_matches(p, req) for p in self.body):
            return False
        if self.host is not None and not self.host.matches((req.header("host") or "").rsplit(":", 1)[0]):
            return False
        if self.port is not None and str(self.port) != (req.header("host") or "").rpartition(":")[2]:
            return False
        return self.scheme is None or self.scheme == "http"

    @staticmethod
    def body_matches(pattern: ValuePattern, req: Request) -> bool:
        """Whether one of the ``bodyPatterns`` matches the body of ``req``."""
        if pattern.is_absent():
            return not req.body
        if isinstance(pattern, BinaryEqualTo):
            return req.body == pattern._bytes
        return pattern.matches(req.text)

    def path_variables(self, req: Request) -> dict[str, str]:
        if self.url_kind != "urlPathTemplate" or self.url_regex is None:
            return {}
        m = self.url_regex.match(req.path)
        if m is None:
            return {}
        from urllib.parse import unquote

        return {name: unquote(m.group(f"v{i}")) for i, name in enumerate(self.template_vars)}

    # -- slow path: explain ----------------------------------------------------------------

    def describe(self) -> str:
        method = self.method or "ANY"
        url = self.url_value if self.url_kind else "(any URL)"
        if self.url_kind not in ("url", "urlPath", ""):
            url = f"{self.url_kind} {self.url_value}"
        return f"{method} {url}"

    def compare(self, req: Request) -> tuple[float, list[Difference]]:
        """Distance in [0, 1] (0 = match) and the list of differences."""
        diffs: list[Difference] = []
        scores: list[tuple[float, float]] = []  # (weight, distance)
        method_ok = self.method is None or req.method == self.method
        scores.append((3.0, 0.0 if method_ok else 1.0))
        if not method_ok:
            diffs.append(Difference("method", str(self.method), req.method))
        if self.url_kind:
            ok = self.url_matches(req)
            if ok:
                dist = 0.0
            elif self.url_kind in ("url", "urlPath"):
                from ._matchers import _similarity_distance

                actual = req.url if self.url_kind == "url" else req.path
                dist = max(0.05, _similarity_distance(self.url_value, actual))
            else:
                dist = 1.0
            scores.append((10.0, dist))
            if not ok:
                actual = req.url if self.url_kind in ("url", "urlPattern") else req.path
                diffs.append(Difference(f"URL ({self.url_kind})", self.url_value, actual))
        variables = self.path_variables(req)
        for name, p in self.path_params:
            self._one(
                scores,
                diffs,
                f"path parameter {name}",
                p.describe(),
                variables.get(name),
                p.distance(variables.get(name)),
            )
        for name, m in self.query:
            values = req.query.get(name)
            self._one(scores, diffs, f"query parameter {name}", m.describe(), _show(values), m.distance(values))
        for lname, name, m in self.headers:
            values = req.header_map.get(lname)
            self._one(scores, diffs, f"header {name}", m.describe(), _show(values), m.distance(values))
        for name, m in self.cookies:
            values = req.cookies.get(name)
            self._one(scores, diffs, f"cookie {name}", m.describe(), _show(values), m.distance(values))
        if self.basic_auth is not None:
            got = req.header("authorization")
            ok = got == self.basic_auth
            self._one(scores, diffs, "basic auth", "Authorization: " + self.basic_auth, got, 0.0 if ok else 1.0)
        if self.form:
            form = parse_query(req.text)
            for name, m in self.form:
                values = form.get(name)
                self._one(scores, diffs, f"form parameter {name}", m.describe(), _show(values), m.distance(values))
        for i, p in enumerate(self.body):
            ok = self.body_matches(p, req)
            dist = 0.0 if ok else (1.0 if p.is_absent() else max(0.01, p.distance(req.text)))
            self._one(
                scores,
                diffs,
                "body" if len(self.body) == 1 else f"body pattern {i + 1}",
                p.describe(),
                _clip(req.text),
                dist,
            )
        total = sum(w for w, _ in scores)
        distance = sum(w * d for w, d in scores) / total if total else 0.0
        if diffs and distance == 0.0:
            distance = 0.01
        return distance, diffs

    @staticmethod
    def _one(
        scores: list[tuple[float, float]], diffs: list[Difference], field: str, want: str, got: str | None, dist: float
    ) -> None:
        scores.append((1.0, dist))
        if dist > 0.0:
            diffs.append(Difference(field, want, "(absent)" if got is None else got))

    def to_json(self) -> dict[str, Any]:
        return dict(self.raw)


def _show(values: list[str] | None) -> str | None:
    if values is None:
        return None
    return values[0] if len(values) == 1 else json.dumps(values)


def _clip(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"
