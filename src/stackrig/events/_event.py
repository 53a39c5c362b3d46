"""One captured event: subject, body (JSON decoded when it is JSON), raw bytes, headers, time."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["Event", "Headers", "encode_body"]


class Headers(Mapping[str, str]):
    """Message headers, looked up without regard to case (``content-type`` == ``Content-Type``)."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, Any] | None = None) -> None:
        self._items: dict[str, tuple[str, str]] = {}
        for key, value in (items or {}).items():
            self._items[str(key).lower()] = (str(key), value if isinstance(value, str) else _text(value))

    def __getitem__(self, key: str) -> str:
        return self._items[key.lower()][1]

    def __iter__(self) -> Iterator[str]:
        return (original for original, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._items

    def __repr__(self) -> str:
        return repr({k: v for k, v in self._items.values()})


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


_UNSET: Any = object()


class Event:
    """What a tap captured: ``.subject``, ``.body`` (decoded JSON, else the raw bytes), ``.raw``,
    ``.headers``, ``.timestamp`` (when the tap received it, ``time.time()``) and ``.meta``
    (what the protocol adds: exchange, stream sequence, QoS, retained, ...)."""

    __slots__ = ("subject", "raw", "headers", "timestamp", "meta", "_body")

    def __init__(self, subject: str, raw: bytes, headers: Mapping[str, Any] | None = None,
                 timestamp: float | None = None, meta: Mapping[str, Any] | None = None) -> None:
        self.subject = subject
        self.raw = bytes(raw)
        self.headers = headers if isinstance(headers, Headers) else Headers(headers)
        self.timestamp = time.time() if timestamp is None else timestamp
        self.meta: dict[str, Any] = dict(meta or {})
        self._body: Any = _UNSET

    @property
    def body(self) -> Any:
        """The payload decoded as JSON when it is JSON, else the raw bytes (decoded once)."""
        if self._body is _UNSET:
            try:
                self._body = json.loads(self.raw)
            except (ValueError, UnicodeDecodeError):
                self._body = self.raw
        return self._body

    @property
    def text(self) -> str:
        return self.raw.decode("utf-8", errors="replace")

    def short(self, width: int = 160) -> str:
        body = self.text if not isinstance(self.body, bytes) else repr(self.raw[:80])
        body = " ".join(body.split())
        return body if len(body) <= width else body[: width - 1] + "…"

    def __repr__(self) -> str:
        return f"Event({self.subject!r}, {self.short(60)})"


def encode_body(body: Any) -> tuple[bytes, str]:
    """A body to publish and its content type: JSON for dicts/lists/numbers, text for str, bytes as is."""
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body), "application/octet-stream"
    if isinstance(body, str):
        return body.encode(), "text/plain; charset=utf-8"
    return json.dumps(body, separators=(",", ":"), default=str).encode(), "application/json"
