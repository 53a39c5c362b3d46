"""Toxic and proxy descriptions: parsing and validating Toxiproxy JSON bodies.

The JSON shapes and messages follow Toxiproxy 2.x (``api.go``,
``toxic_collection.go``): a toxic is ``{"name", "type", "stream", "toxicity",
"attributes"}``; ``stream`` defaults to ``downstream``, ``toxicity`` to 1.0 and
the name to ``<type>_<stream>``.  Errors raise :class:`ApiProblem` with the
status Toxiproxy would answer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ._errors import ApiProblem

__all__ = ["TOXIC_ATTRIBUTES", "ToxicSpec", "ProxySpec", "parse_toxic", "update_toxic", "parse_address",
           "parse_proxy_fields"]

# Every supported toxic type with its attributes and their defaults (Toxiproxy's names and units).
TOXIC_ATTRIBUTES: dict[str, dict[str, int]] = {
    "latency": {"latency": 0, "jitter": 0},  # ms
    "bandwidth": {"rate": 0},  # KB/s
    "slow_close": {"delay": 0},  # ms
    "timeout": {"timeout": 0},  # ms, 0 = never close
    "reset_peer": {"timeout": 0},  # ms
    "slicer": {"average_size": 0, "size_variation": 0, "delay": 0},  # bytes, bytes, µs
    "limit_data": {"bytes": 0},
}
STREAMS = ("upstream", "downstream")
_BAD_BODY = "bad request body"


@dataclass
class ToxicSpec:
    """One toxic as the API shows it."""

    name: str
    type: str
    stream: str
    toxicity: float
    attributes: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "stream": self.stream,
                "toxicity": self.toxicity, "attributes": dict(self.attributes)}


@dataclass
class ProxySpec:
    name: str
    listen: str
    upstream: str
    enabled: bool = True


def _toxicity(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ApiProblem(f"{_BAD_BODY}: toxicity must be a number between 0 and 1, got {value!r}", 400)
    if not 0.0 <= float(value) <= 1.0:
        raise ApiProblem(f"{_BAD_BODY}: toxicity must be between 0 and 1, got {value!r}", 400)
    return float(value)


def _attributes(kind: str, given: object, base: dict[str, int]) -> dict[str, int]:
    if given is None:
        return dict(base)
    if not isinstance(given, dict):
        raise ApiProblem(f"{_BAD_BODY}: attributes must be a JSON object, got {given!r}", 400)
    allowed = TOXIC_ATTRIBUTES[kind]
    out = dict(base)
    for key, value in given.items():
        if key not in allowed:
            # Toxiproxy (Go's json decoder) ignores unknown fields; so do we.
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                or value != int(value):
            raise ApiProblem(
                f"{_BAD_BODY}: attribute '{key}' of a {kind} toxic must be an integer, got {value!r}", 400)
        if value < 0:
            raise ApiProblem(
                f"{_BAD_BODY}: attribute '{key}' of a {kind} toxic must be >= 0, got {value!r}", 400)
        out[key] = int(value)
    if kind == "slicer" and out["average_size"] <= 0:
        raise ApiProblem(f"{_BAD_BODY}: attribute 'average_size' of a slicer toxic must be > 0, "
                         f"got {out['average_size']}", 400)
    if kind == "slicer" and out["size_variation"] >= out["average_size"]:
        raise ApiProblem(f"{_BAD_BODY}: attribute 'size_variation' of a slicer toxic must be smaller than "
                         f"average_size ({out['average_size']}), got {out['size_variation']}", 400)
    return out


def parse_toxic(body: object) -> ToxicSpec:
    """A new toxic from a ``POST /proxies/{proxy}/toxics`` body."""
    if not isinstance(body, dict):
        raise ApiProblem(f"{_BAD_BODY}: expected a JSON object, got {type(body).__name__}", 400)
    stream = body.get("stream", "downstream")
    if stream in ("", None):
        stream = "downstream"
    if stream not in STREAMS:
        raise ApiProblem("stream was invalid, can be either upstream or downstream", 400)
    kind = body.get("type")
    if not isinstance(kind, str) or kind not in TOXIC_ATTRIBUTES:
        raise ApiProblem("invalid toxic type", 400)
    name = body.get("name") or f"{kind}_{stream}"
    if not isinstance(name, str):
        raise ApiProblem(f"{_BAD_BODY}: name must be a string, got {name!r}", 400)
    toxicity = _toxicity(body.get("toxicity", 1.0))
    attributes = _attributes(kind, body.get("attributes"), TOXIC_ATTRIBUTES[kind])
    return ToxicSpec(name=name, type=kind, stream=stream, toxicity=toxicity, attributes=attributes)


def update_toxic(current: ToxicSpec, body: object) -> ToxicSpec:
    """``current`` changed by a ``POST/PATCH /proxies/{proxy}/toxics/{toxic}`` body."""
    if not isinstance(body, dict):
        raise ApiProblem(f"{_BAD_BODY}: expected a JSON object, got {type(body).__name__}", 400)
    toxicity = _toxicity(body["toxicity"]) if "toxicity" in body else current.toxicity
    attributes = _attributes(current.type, body.get("attributes"), current.attributes)
    return ToxicSpec(current.name, current.type, current.stream, toxicity, attributes)


def parse_address(text: object, what: str) -> tuple[str, int]:
    """``host:port`` → (host, port); an empty host means 127.0.0.1."""
    if not isinstance(text, str) or ":" not in text:
        raise ApiProblem(f"{_BAD_BODY}: {what} must be 'host:port', got {text!r}", 400)
    host, _, port_text = text.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if host == "localhost":
        host = "127.0.0.1"
    try:
        port = int(port_text)
    except ValueError:
        raise ApiProblem(f"{_BAD_BODY}: {what} must be 'host:port' with a numeric port, got {text!r}",
                         400) from None
    if not 0 <= port <= 65535:
        raise ApiProblem(f"{_BAD_BODY}: {what} port must be 0..65535, got {port}", 400)
    return host, port


def parse_proxy_fields(body: object, *, where: str = "") -> ProxySpec:
    """A proxy from a ``POST /proxies`` body or one entry of ``/populate`` (``where`` locates it)."""
    if not isinstance(body, dict):
        raise ApiProblem(f"{_BAD_BODY}: expected a JSON object{where}, got {type(body).__name__}", 400)
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise ApiProblem(f"missing required field: name{where}", 400)
    upstream = body.get("upstream")
    if not isinstance(upstream, str) or not upstream:
        raise ApiProblem(f"missing required field: upstream{where}", 400)
    listen = body.get("listen") or "127.0.0.1:0"
    enabled = body.get("enabled", True)
    if enabled is None:
        enabled = True
    if not isinstance(enabled, bool):
        raise ApiProblem(f"{_BAD_BODY}: enabled must be true or false{where}, got {enabled!r}", 400)
    parse_address(listen, "listen")
    parse_address(upstream, "upstream")
    return ProxySpec(name=name, listen=str(listen), upstream=upstream, enabled=enabled)
