"""Pact files as the engine sees them: read, checked, and normalised across specification versions.

V2 and V3 files (``interactions`` of HTTP requests, or V3 message pacts with ``messages``) and V4
files (typed interactions: ``Synchronous/HTTP``, ``Asynchronous/Messages``, ``Synchronous/Messages``)
load into the same :class:`Pact` / :class:`Interaction` objects.  A file that is not JSON, not an
object, or lacks what every pact has (consumer and provider names, a list of interactions, each
with a description) raises :class:`~stackrig.pact.PactFileError` naming the file and the place.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._errors import PactFileError

__all__ = ["HTTP", "MESSAGE", "SYNC_MESSAGE", "Interaction", "Pact", "ProviderState", "expand_sources", "load_pact"]

HTTP = "Synchronous/HTTP"
MESSAGE = "Asynchronous/Messages"
SYNC_MESSAGE = "Synchronous/Messages"
_TYPES = (HTTP, MESSAGE, SYNC_MESSAGE)


@dataclass(frozen=True)
class ProviderState:
    """One ``given(...)``: the state's text and its parameters."""

    name: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        if not self.params:
            return self.name
        return f"{self.name} {json.dumps(dict(self.params), sort_keys=True)}"


@dataclass
class Interaction:
    """One interaction of a pact, whatever the file's version."""

    description: str
    type: str
    states: list[ProviderState]
    raw: dict[str, Any]
    file: str
    index: int

    @property
    def is_message(self) -> bool:
        return self.type != HTTP

    @property
    def label(self) -> str:
        given = f" (given {', '.join(s.describe() for s in self.states)})" if self.states else ""
        return f"{self.description}{given}"

    # -- a message's parts ----------------------------------------------------------------
    @property
    def contents(self) -> Any:
        """The message's expected contents, decoded (JSON value, text or bytes)."""
        raw = self.raw.get("contents")
        if self.type == SYNC_MESSAGE:
            raw = (self.raw.get("request") or {}).get("contents")
        return body_value(raw, v4=self._v4)

    @property
    def metadata(self) -> dict[str, Any]:
        meta = self.raw.get("metadata")
        if self.type == SYNC_MESSAGE:
            meta = (self.raw.get("request") or {}).get("metadata")
        return dict(meta) if isinstance(meta, Mapping) else {}

    @property
    def body_rules(self) -> dict[str, Any]:
        """The matching rules of the message contents, by JSON path (V2's flat form converted)."""
        rules = self.raw.get("matchingRules")
        if self.type == SYNC_MESSAGE:
            rules = (self.raw.get("request") or {}).get("matchingRules")
        return body_rules(rules)

    @property
    def _v4(self) -> bool:
        return "type" in self.raw


@dataclass
class Pact:
    """A pact file: who consumes, who provides, which specification, its interactions."""

    path: str
    consumer: str
    provider: str
    version: str
    interactions: list[Interaction]

    @property
    def messages(self) -> list[Interaction]:
        return [i for i in self.interactions if i.is_message]


def body_value(raw: Any, *, v4: bool) -> Any:
    """A V4 body (``{"content", "contentType", "encoded"}``) or an older one (the value itself)."""
    if not v4 or not isinstance(raw, Mapping) or "content" not in raw:
        return raw
    content = raw.get("content")
    encoded = raw.get("encoded")
    if encoded in ("base64", True) and isinstance(content, str):
        data = base64.b64decode(content)
        try:
            return json.loads(data) if "json" in str(raw.get("contentType", "")) else data
        except ValueError:
            return data
    if encoded == "json" and isinstance(content, str):
        return json.loads(content)
    return content


def body_rules(rules: Any) -> dict[str, Any]:
    """``{"$.path": {"matchers": [...], "combine": "AND"}}`` from V3/V4 ``{"body": {...}}`` or V2's
    ``{"$.body.path": {"match": ...}}``."""
    if not isinstance(rules, Mapping):
        return {}
    body = rules.get("body") if isinstance(rules.get("body"), Mapping) else rules.get("content")
    if isinstance(body, Mapping):
        return {str(k): _as_rule(v) for k, v in body.items()}
    out: dict[str, Any] = {}
    for key, value in rules.items():  # V2
        if isinstance(key, str) and key.startswith("$.body"):
            out["$" + key[len("$.body"):]] = _as_rule(value)
    return out


def _as_rule(value: Any) -> dict[str, Any]:
    if isinstance(value, Mapping) and isinstance(value.get("matchers"), list):
        return {"matchers": list(value["matchers"]), "combine": value.get("combine", "AND")}
    if isinstance(value, Mapping):
        return {"matchers": [dict(value)], "combine": "AND"}
    return {"matchers": [], "combine": "AND"}


def _states(raw: Mapping[str, Any], where: str, file: str) -> list[ProviderState]:
    found = raw.get("providerStates")
    if found is None and isinstance(raw.get("providerState"), str):  # V2
        return [ProviderState(raw["providerState"])]
    if found is None:
        return []
    if not isinstance(found, list):
        raise PactFileError(f"{where}.providerStates must be a list, found {type(found).__name__}", file=file)
    out = []
    for i, state in enumerate(found):
        if isinstance(state, str):
            out.append(ProviderState(state))
            continue
        if not isinstance(state, Mapping) or not isinstance(state.get("name"), str):
            raise PactFileError(f"{where}.providerStates[{i}] must be an object with a string 'name'", file=file)
        params = state.get("params") or {}
        if not isinstance(params, Mapping):
            raise PactFileError(f"{where}.providerStates[{i}].params must be an object", file=file)
        out.append(ProviderState(state["name"], dict(params)))
    return out


def _party(doc: Mapping[str, Any], key: str, file: str) -> str:
    party = doc.get(key)
    name = party.get("name") if isinstance(party, Mapping) else None
    if not isinstance(name, str) or not name:
        raise PactFileError(f"not a pact: it has no {key} name ($.{key}.name)", file=file,
                            hint="a pact file names its consumer and provider: "
                                 '{"consumer": {"name": ...}, "provider": {"name": ...}, "interactions": [...]}')
    return name


def _version(doc: Mapping[str, Any]) -> str:
    meta = doc.get("metadata")
    if not isinstance(meta, Mapping):
        return "2.0.0"
    for key in ("pactSpecification", "pact-specification"):
        spec = meta.get(key)
        if isinstance(spec, Mapping) and spec.get("version") is not None:
            return str(spec["version"])
    return str(meta.get("pactSpecificationVersion") or "2.0.0")


def parse_pact(doc: Any, file: str) -> Pact:
    """A pact from its decoded JSON; :class:`PactFileError` when it is not one."""
    if not isinstance(doc, Mapping):
        raise PactFileError(f"not a pact: the JSON is {type(doc).__name__}, not an object", file=file)
    consumer = _party(doc, "consumer", file)
    provider = _party(doc, "provider", file)
    key = "interactions" if "interactions" in doc else "messages" if "messages" in doc else None
    if key is None:
        raise PactFileError("not a pact: it has no 'interactions' (nor V3 'messages') list", file=file)
    items = doc[key]
    if not isinstance(items, list):
        raise PactFileError(f"not a pact: $.{key} must be a list, found {type(items).__name__}", file=file)
    version = _version(doc)
    interactions = []
    for i, raw in enumerate(items):
        where = f"$.{key}[{i}]"
        if not isinstance(raw, dict):
            raise PactFileError(f"{where} must be an object, found {type(raw).__name__}", file=file)
        desc = raw.get("description")
        if not isinstance(desc, str):
            raise PactFileError(f"{where} has no description (a string)", file=file)
        kind = raw.get("type")
        if kind is None:
            kind = MESSAGE if key == "messages" or ("contents" in raw and "request" not in raw) else HTTP
        elif kind not in _TYPES:
            raise PactFileError(f"{where}.type {kind!r} is not an interaction type stackrig verifies "
                                f"({', '.join(_TYPES)})", file=file)
        if kind == HTTP and not isinstance(raw.get("request"), Mapping):
            raise PactFileError(f"{where} ('{desc}') has no request object", file=file)
        if kind == HTTP and not isinstance(raw.get("response"), Mapping):
            raise PactFileError(f"{where} ('{desc}') has no response object", file=file)
        interactions.append(Interaction(desc, kind, _states(raw, where, file), raw, file, i))
    return Pact(file, consumer, provider, version, interactions)


def load_pact(path: str | Path) -> Pact:
    """Read and check one pact file."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PactFileError("no such file", file=file, hint="pass the path of a pact file (or a folder of them)") \
            from None
    except UnicodeDecodeError:
        raise PactFileError("not a pact: the file is not UTF-8 text", file=file) from None
    except OSError as exc:
        raise PactFileError(f"cannot be read: {exc.strerror or exc}", file=file) from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PactFileError(f"not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}", file=file,
                            hint="a pact file is the JSON a Pact consumer test (or stackrig) writes") from None
    return parse_pact(doc, file)


def expand_sources(sources: Iterable[str | Path]) -> list[Path]:
    """Files as given, folders as the ``*.json`` files in them (sorted); a missing path is an error."""
    out: list[Path] = []
    for source in sources:
        path = Path(source)
        if path.is_dir():
            found = sorted(p for p in path.glob("*.json") if p.is_file())
            if not found:
                raise PactFileError("the folder holds no *.json pact files", file=str(path))
            out.extend(found)
        elif path.exists():
            out.append(path)
        else:
            raise PactFileError("no such file", file=str(path), hint="pass the path of a pact file (or a folder)")
    return out
