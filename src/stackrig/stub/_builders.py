"""Request builders and value matchers for the Python API: ``post("/charges").json_body({...})``.

They only build WireMock's JSON; the server does the matching, so what a test declares and what
a mapping file declares behave the same.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Mapping
from typing import Any

__all__ = [
    "Matcher",
    "RequestSpec",
    "absent",
    "any_request",
    "containing",
    "delete",
    "equal_to",
    "equal_to_json",
    "get",
    "head",
    "matching",
    "matching_json_path",
    "not_matching",
    "options",
    "patch",
    "post",
    "put",
    "request",
]


class Matcher:
    """A WireMock value matcher such as ``{"equalTo": "x"}``; plain strings mean ``equal_to``."""

    def __init__(self, spec: dict[str, Any], text: str) -> None:
        self.spec = spec
        self._text = text

    def to_json(self) -> dict[str, Any]:
        return copy.deepcopy(self.spec)

    def __repr__(self) -> str:
        return self._text


def equal_to(value: str, *, case_insensitive: bool = False) -> Matcher:
    spec: dict[str, Any] = {"equalTo": value}
    if case_insensitive:
        spec["caseInsensitive"] = True
    return Matcher(spec, f"equal_to({value!r})")


def matching(regex: str) -> Matcher:
    """The whole value matches the regular expression."""
    return Matcher({"matches": regex}, f"matching({regex!r})")


def not_matching(regex: str) -> Matcher:
    return Matcher({"doesNotMatch": regex}, f"not_matching({regex!r})")


def containing(text: str) -> Matcher:
    return Matcher({"contains": text}, f"containing({text!r})")


def absent() -> Matcher:
    return Matcher({"absent": True}, "absent()")


def equal_to_json(value: Any, *, ignore_array_order: bool = False, ignore_extra_elements: bool = False) -> Matcher:
    spec: dict[str, Any] = {"equalToJson": value}
    if ignore_array_order:
        spec["ignoreArrayOrder"] = True
    if ignore_extra_elements:
        spec["ignoreExtraElements"] = True
    return Matcher(spec, f"equal_to_json({json.dumps(value)})")


def matching_json_path(expression: str, value: str | Matcher | None = None) -> Matcher:
    """Something is at ``expression`` in the JSON value (and it matches ``value`` if given).

    For metadata look-ups: ``stub.find_by_metadata(matching_json_path("$.tags", containing("x")))``.
    """
    if value is None:
        return Matcher({"matchesJsonPath": expression}, f"matching_json_path({expression!r})")
    spec = {"matchesJsonPath": {"expression": expression, **_matcher(value)}}
    return Matcher(spec, f"matching_json_path({expression!r}, {value!r})")


def _matcher(value: str | Matcher) -> dict[str, Any]:
    if isinstance(value, Matcher):
        return value.to_json()
    if not isinstance(value, str):
        raise TypeError(f"expected a string or a Matcher (equal_to, matching, ...), found {value!r}")
    return {"equalTo": value}


class RequestSpec:
    """Which requests a stub answers or ``verify`` counts.  Every method returns ``self``."""

    def __init__(self, method: str, url: str | None = None) -> None:
        self._json: dict[str, Any] = {"method": method.upper()}
        if url is not None:
            if "?" in url:
                self._json["url"] = url
            elif "{" in url and "}" in url:
                self._json["urlPathTemplate"] = url
            else:
                self._json["urlPath"] = url

    # -- URL ---------------------------------------------------------------------------------------

    def _set_url(self, key: str, value: str) -> RequestSpec:
        for k in ("url", "urlPath", "urlPattern", "urlPathPattern", "urlPathTemplate"):
            self._json.pop(k, None)
        self._json[key] = value
        return self

    def url_matching(self, regex: str) -> RequestSpec:
        """The path and query (``/items/1?x=y``) match ``regex`` entirely."""
        return self._set_url("urlPattern", regex)

    def path_matching(self, regex: str) -> RequestSpec:
        """The path alone matches ``regex`` entirely."""
        return self._set_url("urlPathPattern", regex)

    def url_exactly(self, url: str) -> RequestSpec:
        """Path and query equal ``url`` as text (query order matters)."""
        return self._set_url("url", url)

    # -- parts ---------------------------------------------------------------------------------------

    def _add(self, section: str, name: str, value: str | Matcher) -> RequestSpec:
        self._json.setdefault(section, {})[name] = _matcher(value)
        return self

    def query(self, params: Mapping[str, str | Matcher] | None = None, /, **kw: str | Matcher) -> RequestSpec:
        for name, value in {**(params or {}), **kw}.items():
            self._add("queryParameters", name, value)
        return self

    def header(self, name: str, value: str | Matcher) -> RequestSpec:
        return self._add("headers", name, value)

    def cookie(self, name: str, value: str | Matcher) -> RequestSpec:
        return self._add("cookies", name, value)

    def form(self, name: str, value: str | Matcher) -> RequestSpec:
        return self._add("formParameters", name, value)

    def basic_auth(self, username: str, password: str) -> RequestSpec:
        self._json["basicAuthCredentials"] = {"username": username, "password": password}
        return self

    def _body(self, pattern: dict[str, Any]) -> RequestSpec:
        self._json.setdefault("bodyPatterns", []).append(pattern)
        return self

    def json_body(
        self, value: Any, *, ignore_array_order: bool = False, ignore_extra_elements: bool = False
    ) -> RequestSpec:
        return self._body(
            equal_to_json(
                value, ignore_array_order=ignore_array_order, ignore_extra_elements=ignore_extra_elements
            ).spec
        )

    def body(self, value: str | Matcher) -> RequestSpec:
        return self._body(_matcher(value))

    def body_contains(self, text: str) -> RequestSpec:
        return self._body({"contains": text})

    def body_matching(self, regex: str) -> RequestSpec:
        return self._body({"matches": regex})

    def body_bytes(self, data: bytes) -> RequestSpec:
        return self._body({"binaryEqualTo": base64.b64encode(data).decode("ascii")})

    def no_body(self) -> RequestSpec:
        return self._body({"absent": True})

    def json_path(self, expression: str, value: str | Matcher | None = None) -> RequestSpec:
        """The JSON body has something at ``expression`` (and it matches ``value`` if given)."""
        if value is None:
            return self._body({"matchesJsonPath": expression})
        return self._body({"matchesJsonPath": {"expression": expression, **_matcher(value)}})

    def xml_body(self, xml: str) -> RequestSpec:
        return self._body({"equalToXml": xml})

    def xpath(self, expression: str, value: str | Matcher | None = None) -> RequestSpec:
        if value is None:
            return self._body({"matchesXPath": expression})
        return self._body({"matchesXPath": {"expression": expression, **_matcher(value)}})

    # -- output ---------------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The WireMock request pattern."""
        return copy.deepcopy(self._json)

    def __str__(self) -> str:
        j = self._json
        url = next(
            (
                f"{j[k]}" if k in ("url", "urlPath") else f"{k} {j[k]}"
                for k in ("url", "urlPath", "urlPattern", "urlPathPattern", "urlPathTemplate")
                if k in j
            ),
            "(any URL)",
        )
        extras = []
        for section, label in (
            ("queryParameters", "query"),
            ("headers", "header"),
            ("cookies", "cookie"),
            ("formParameters", "form"),
        ):
            for name, m in j.get(section, {}).items():
                extras.append(f"{label} {name} {_describe(m)}")
        if "basicAuthCredentials" in j:
            extras.append(f"basic auth user {j['basicAuthCredentials']['username']!r}")
        for pattern in j.get("bodyPatterns", []):
            extras.append(f"body {_describe(pattern)}")
        return f"{j['method']} {url}" + (f" ({'; '.join(extras)})" if extras else "")

    def __repr__(self) -> str:
        return f"<RequestSpec {self}>"


def _describe(matcher: dict[str, Any]) -> str:
    parts = [f"{k} {json.dumps(v)}" for k, v in matcher.items()]
    return ", ".join(parts)


def request(method: str, url: str | None = None) -> RequestSpec:
    return RequestSpec(method, url)


def get(url: str | None = None) -> RequestSpec:
    """``GET url``: with a ``?`` the URL must equal it; with ``{var}`` it is a path template; else the path."""
    return RequestSpec("GET", url)


def post(url: str | None = None) -> RequestSpec:
    return RequestSpec("POST", url)


def put(url: str | None = None) -> RequestSpec:
    return RequestSpec("PUT", url)


def patch(url: str | None = None) -> RequestSpec:
    return RequestSpec("PATCH", url)


def delete(url: str | None = None) -> RequestSpec:
    return RequestSpec("DELETE", url)


def head(url: str | None = None) -> RequestSpec:
    return RequestSpec("HEAD", url)


def options(url: str | None = None) -> RequestSpec:
    return RequestSpec("OPTIONS", url)


def any_request(url: str | None = None) -> RequestSpec:
    """Any method."""
    return RequestSpec("ANY", url)
