"""Sending one request of an operation with chosen values, timing it, and the curl line that repeats it.

Values go on the wire as a client would put them: path segments and query values percent-encoded
(a *raw* value — an encoded traversal payload — is sent exactly as given), headers and cookies as
text, bodies as JSON or a form. The `--auth` headers go with every request unless a check leaves them
out (the missing-authentication check does).
"""

from __future__ import annotations

import json
import shlex
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from ._errors import ScanError
from ._schema import Operation, Param
from ._values import benign

__all__ = ["Target", "Sent", "Values", "MISSING", "wire_text", "curl_line"]

MAX_BODY = 256 * 1024
MISSING = object()  # a value that leaves its parameter out


@dataclass
class Sent:
    """A response (status 0 and `error` when none came), how long it took, and how to repeat it."""

    status: int
    headers: httpx.Headers
    body: bytes
    elapsed: float
    curl: str
    error: str | None = None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @property
    def content_type(self) -> str:
        return str(self.headers.get("content-type", "")).split(";")[0].strip().lower()

    @property
    def is_html(self) -> bool:
        return self.content_type in ("text/html", "application/xhtml+xml")

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def server_error(self) -> bool:
        return self.status >= 500


@dataclass
class Values:
    """The values of one request: parameters by (location, name), the body (None: none), what is raw."""

    params: dict[tuple[str, str], Any] = field(default_factory=dict)
    body: Any = None
    raw: set[tuple[str, str]] = field(default_factory=set)

    def copy(self) -> Values:
        return Values(dict(self.params), json.loads(json.dumps(self.body)) if self.body is not None else None,
                      set(self.raw))

    def get(self, point: Param) -> Any:
        if point.location != "body":
            return self.params.get((point.location, point.name))
        node = self.body
        for key in point.keys:
            if not isinstance(node, dict):
                return None
            node = node.get(key)
        return node

    def with_value(self, point: Param, value: Any, *, raw: bool = False) -> Values:
        """A copy with `point` set to `value` (MISSING: left out); `raw` sends it unencoded."""
        out = self.copy()
        if point.location != "body":
            key = (point.location, point.name)
            if value is MISSING:
                out.params.pop(key, None)
            else:
                out.params[key] = value
                if raw:
                    out.raw.add(key)
            return out
        if not isinstance(out.body, dict):
            out.body = {}
        node = out.body
        for part in point.keys[:-1]:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        if value is MISSING:
            node.pop(point.keys[-1], None)
        else:
            node[point.keys[-1]] = value
        return out


def wire_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return "" if value is None else str(value)


class Target:
    """The service under scan: one pooled, thread-safe HTTP client, the auth headers, a request count."""

    def __init__(self, base_url: str, auth: dict[str, str] | None = None, *, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth = dict(auth or {})
        self.timeout = timeout
        self.client = httpx.Client(timeout=timeout, follow_redirects=False,
                                   limits=httpx.Limits(max_connections=32, max_keepalive_connections=16))
        self._lock = threading.Lock()
        self.requests = 0
        self._failures = 0  # transport failures in a row

    def close(self) -> None:
        self.client.close()

    def benign(self, op: Operation) -> Values:
        """The values a well-behaved client sends: every parameter (and body field) the schema describes."""
        values = Values()
        for p in op.params:
            values.params[(p.location, p.name)] = benign(p.schema, p.name)
        if op.body_schema is not None:
            values.body = benign(op.body_schema, "body")
        return values

    def build(self, op: Operation, values: Values, *, auth: bool = True, headers: dict[str, str] | None = None,
              content: bytes | None = None, content_type: str | None = None, method: str | None = None,
              ) -> tuple[str, str, dict[str, str], bytes | None]:
        """(method, URL, headers, body) for these values."""
        path = op.path
        query: list[str] = []
        sent_headers: dict[str, str] = {}
        cookies: list[str] = []
        for (where, name), value in values.params.items():
            raw = (where, name) in values.raw
            items = value if isinstance(value, list) and where == "query" else [value]
            if where == "path":
                text = wire_text(value)
                path = path.replace("{" + name + "}", text.replace("/", "%2F") if raw else quote(text, safe=""))
            elif where == "query":
                for item in items:
                    text = wire_text(item)
                    query.append(f"{quote(name, safe='')}={text if raw else quote(text, safe='')}")
            elif where == "header":
                sent_headers[name] = wire_text(value)
            elif where == "cookie":
                cookies.append(f"{name}={wire_text(value)}")
        if auth:
            for name, value in self.auth.items():
                if name.lower() == "cookie":
                    cookies.append(value)
                else:
                    sent_headers[name] = value
        if cookies:
            sent_headers["Cookie"] = "; ".join(cookies)
        body = content
        if body is None and values.body is not None and op.body_type is not None:
            if op.body_type == "form" and isinstance(values.body, dict):
                body = urlencode({k: wire_text(v) for k, v in values.body.items()}).encode()
                content_type = content_type or "application/x-www-form-urlencoded"
            else:
                body = json.dumps(values.body).encode()
                content_type = content_type or "application/json"
        if body is not None and content_type:
            sent_headers["Content-Type"] = content_type
        sent_headers.update(headers or {})
        url = self.base_url + path + ("?" + "&".join(query) if query else "")
        return (method or op.method), url, sent_headers, body

    def send(self, op: Operation, values: Values, **options: Any) -> Sent | None:
        """Send one request; None when the values cannot go on the wire (a header with a newline)."""
        method, url, headers, body = self.build(op, values, **options)
        curl = curl_line(method, url, headers, body)
        try:
            request = self.client.build_request(method, url, headers=headers, content=body)
        except (httpx.InvalidURL, ValueError, UnicodeEncodeError, TypeError):
            return None
        if any("\n" in v or "\r" in v for v in headers.values()):
            return None
        with self._lock:
            self.requests += 1
        start = time.perf_counter()
        for attempt in (1, 2):
            try:
                status, response_headers, body_bytes = self._exchange(request)
                break
            except httpx.TimeoutException:
                return Sent(0, httpx.Headers(), b"", time.perf_counter() - start, curl, error="timeout")
            except (httpx.TransportError, httpx.DecodingError) as exc:
                # a kept-alive connection the server closed after an error answer: once more, on a new one
                if attempt == 1 and isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
                    start = time.perf_counter()
                    continue
                self._transport_failed(url, exc)
                return Sent(0, httpx.Headers(), b"", time.perf_counter() - start, curl,
                            error=f"{type(exc).__name__}")
        with self._lock:
            self._failures = 0
        return Sent(status, response_headers, body_bytes, time.perf_counter() - start, curl)

    def _exchange(self, request: httpx.Request) -> tuple[int, httpx.Headers, bytes]:
        response = self.client.send(request, stream=True)
        try:
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size >= MAX_BODY:
                    break
        finally:
            response.close()
        return response.status_code, response.headers, b"".join(chunks)[:MAX_BODY]

    def _transport_failed(self, url: str, exc: Exception) -> None:
        with self._lock:
            self._failures += 1
            failures = self._failures
        if failures >= 25:
            raise ScanError(f"the service at {self.base_url} stopped answering ({failures} requests in a row "
                            f"failed; the last: {type(exc).__name__}: {exc}, for {url})",
                            hint="look at the service's log: a payload may have crashed it")


def curl_line(method: str, url: str, headers: dict[str, str], body: bytes | None) -> str:
    """One shell-quoted curl command for this request."""
    parts = ["curl", "-sS", "-i"]
    if method != "GET" or body is not None:
        parts += ["-X", method]
    if "/.." in url or "%2e" in url.lower() or "./" in url:
        parts.append("--path-as-is")
    if any(c in url for c in "[]{}"):
        parts.append("-g")
    parts.append(shlex.quote(url))
    for name, value in headers.items():
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    if body is not None:
        text = body.decode("utf-8", errors="backslashreplace")
        parts += ["--data-raw", shlex.quote(text)]
    return " ".join(parts)
