"""An HTTP request as the matcher, the journal and the templates see it.

Everything beyond the raw method, target, headers and body is derived lazily and cached, so the
hot path (one stub matching on method and URL) parses nothing it does not need.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import unquote, unquote_plus

__all__ = ["NOT_JSON", "Request", "parse_query"]

NOT_JSON: Any = object()


def parse_query(query: str) -> dict[str, list[str]]:
    """Decode a query string: ``+`` is a space, repeated names keep every value in order."""
    out: dict[str, list[str]] = {}
    if not query:
        return out
    for part in query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        name = unquote_plus(name)
        value = unquote_plus(value)
        values = out.get(name)
        if values is None:
            out[name] = [value]
        else:
            values.append(value)
    return out


class Request:
    """One received request.  ``headers`` keeps the wire order and spelling of names."""

    __slots__ = (
        "_cookies",
        "_header_map",
        "_json",
        "_path",
        "_query",
        "_text",
        "body",
        "client_ip",
        "headers",
        "logged_at",
        "method",
        "url",
    )

    def __init__(
        self,
        method: str,
        url: str,
        headers: list[tuple[str, str]],
        body: bytes,
        client_ip: str = "127.0.0.1",
        logged_at: float = 0.0,
    ) -> None:
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.client_ip = client_ip
        self.logged_at = logged_at
        self._path: str | None = None
        self._query: dict[str, list[str]] | None = None
        self._header_map: dict[str, list[str]] | None = None
        self._cookies: dict[str, list[str]] | None = None
        self._text: str | None = None
        self._json: Any = None

    @property
    def path(self) -> str:
        path = self._path
        if path is None:
            path = self._path = self.url.partition("?")[0]
        return path

    @property
    def query_string(self) -> str:
        return self.url.partition("?")[2]

    @property
    def query(self) -> dict[str, list[str]]:
        query = self._query
        if query is None:
            query = self._query = parse_query(self.query_string)
        return query

    @property
    def header_map(self) -> dict[str, list[str]]:
        """Header values by lower-cased name."""
        hmap = self._header_map
        if hmap is None:
            hmap = {}
            for name, value in self.headers:
                hmap.setdefault(name.lower(), []).append(value)
            self._header_map = hmap
        return hmap

    def header(self, name: str) -> str | None:
        values = self.header_map.get(name.lower())
        return values[0] if values else None

    @property
    def cookies(self) -> dict[str, list[str]]:
        cookies = self._cookies
        if cookies is None:
            cookies = {}
            for line in self.header_map.get("cookie", ()):
                for part in line.split(";"):
                    name, eq, value = part.strip().partition("=")
                    if name and eq:
                        cookies.setdefault(name, []).append(value)
            self._cookies = cookies
        return cookies

    @property
    def text(self) -> str:
        text = self._text
        if text is None:
            text = self._text = self.body.decode("utf-8", "replace")
        return text

    @property
    def json(self) -> Any:
        """The body parsed as JSON, or ``NOT_JSON``."""
        if self._json is None:
            try:
                self._json = json.loads(self.text) if self.body else NOT_JSON
            except ValueError:
                self._json = NOT_JSON
        return self._json

    @property
    def path_segments(self) -> list[str]:
        return [unquote(s) for s in self.path.split("/") if s]

    def to_json(self, host: str = "127.0.0.1", port: int = 0) -> dict[str, Any]:
        """WireMock's LoggedRequest JSON."""
        import datetime

        headers: dict[str, Any] = {}
        for name, value in self.headers:
            if name in headers:
                prev = headers[name]
                headers[name] = (prev if isinstance(prev, list) else [prev]) + [value]
            else:
                headers[name] = value
        stamp = datetime.datetime.fromtimestamp(self.logged_at, datetime.UTC)
        return {
            "url": self.url,
            "absoluteUrl": f"http://{host}:{port}{self.url}",
            "method": self.method,
            "clientIp": self.client_ip,
            "headers": headers,
            "cookies": {k: v[0] if len(v) == 1 else v for k, v in self.cookies.items()},
            "browserProxyRequest": False,
            "loggedDate": int(self.logged_at * 1000),
            "bodyAsBase64": base64.b64encode(self.body).decode("ascii"),
            "body": self.text,
            "protocol": "HTTP/1.1",
            "scheme": "http",
            "host": host,
            "port": port,
            "loggedDateString": stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z",
            "queryParams": {k: {"key": k, "values": v} for k, v in self.query.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Request:
        """A request described as WireMock LoggedRequest JSON (for ``/near-misses/request``)."""
        headers: list[tuple[str, str]] = []
        for name, value in (data.get("headers") or {}).items():
            for v in value if isinstance(value, list) else [value]:
                headers.append((str(name), str(v)))
        if data.get("bodyAsBase64"):
            body = base64.b64decode(data["bodyAsBase64"])
        else:
            body = str(data.get("body") or "").encode("utf-8")
        return cls(str(data.get("method") or "GET"), str(data.get("url") or "/"), headers, body)
