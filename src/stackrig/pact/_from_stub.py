"""Consumer pacts from a stub server's journal: one V4 interaction per stub mapping the consumer's
real calls matched, with the request and the response as exchanged.

Per mapping (``metadata.pact`` in the mapping tunes it; see docs/pact.md):

* ``description``: ``metadata.pact.description``, else the mapping's ``name``, else
  ``"POST /charges -> 201"``;
* provider states: ``metadata.pact.providerState`` (a string) or ``metadata.pact.providerStates``
  (strings or ``{"name", "params"}``);
* the request: method, path, query and body as sent, and the headers the mapping looks at (plus
  ``Content-Type`` when there is a body), with matching rules from the mapping's matchers
  (:mod:`._stub_rules`);
* the response: status, headers and body as the stub answered (:mod:`._render`); a templated
  ``jsonBody`` value gets a ``type`` rule, since it is computed per call;
  ``metadata.pact.matchingRules`` (V4 ``{"request": ..., "response": ...}``) adds rules of its own;
* ``metadata.pact.skip: true`` leaves the mapping out.  Faults and proxied answers are left out.

A mapping is identified by its content (not its id, which mapping files without one get anew on
every start), so the same stub seen by several tests or xdist workers is one interaction.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from ._render import Rendered, render_response
from ._stub_rules import body_rules, header_names, path_rule, value_rules
from ._write import canonical

__all__ = ["interactions_from_journal", "mapping_key"]


def mapping_key(mapping: Mapping[str, Any]) -> str:
    """A mapping's identity: its content without the ids the server assigns."""
    content = {k: v for k, v in mapping.items() if k not in ("id", "uuid", "insertionIndex", "persistent")}
    return hashlib.sha256(canonical(content).encode()).hexdigest()


def _is_json(content_type: str) -> bool:
    lowered = content_type.lower()
    return "json" in lowered


def _body(data: bytes, content_type: str | None, *, guess_json: bool) -> dict[str, Any] | None:
    """A V4 body; JSON decoded when the content type (or, for a ``jsonBody`` stub, the bytes) says so."""
    if not data:
        return None
    ctype = content_type or ""
    if _is_json(ctype) or (not ctype and guess_json):
        try:
            return {"content": json.loads(data), "contentType": ctype or "application/json", "encoded": False}
        except ValueError:
            pass
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return {"content": base64.b64encode(data).decode("ascii"),
                "contentType": ctype or "application/octet-stream", "encoded": "base64"}
    return {"content": text, "contentType": ctype or "text/plain", "encoded": False}


def _headers(pairs: Iterable[tuple[str, str]], keep: Iterable[str] | None = None) -> dict[str, list[str]]:
    wanted = {k.lower() for k in keep} if keep is not None else None
    out: dict[str, list[str]] = {}
    for name, value in pairs:
        if wanted is None or name.lower() in wanted:
            out.setdefault(name, []).append(value)
    return out


def _logged_headers(request: Mapping[str, Any]) -> list[tuple[str, str]]:
    pairs = []
    for name, value in (request.get("headers") or {}).items():
        for v in value if isinstance(value, list) else [value]:
            pairs.append((str(name), str(v)))
    return pairs


def _header(pairs: list[tuple[str, str]], name: str) -> str | None:
    return next((v for n, v in pairs if n.lower() == name.lower()), None)


def _states(meta: Mapping[str, Any]) -> list[dict[str, Any]]:
    found = meta.get("providerStates")
    if found is None and meta.get("providerState") is not None:
        found = [meta["providerState"]]
    out = []
    for state in found if isinstance(found, list) else []:
        if isinstance(state, str):
            out.append({"name": state})
        elif isinstance(state, Mapping) and isinstance(state.get("name"), str):
            item: dict[str, Any] = {"name": state["name"]}
            if state.get("params"):
                item["params"] = dict(state["params"])
            out.append(item)
    return out


def _url_of(pattern: Mapping[str, Any]) -> str:
    for key in ("url", "urlPath", "urlPathTemplate", "urlPathPattern", "urlPattern"):
        if isinstance(pattern.get(key), str):
            return str(pattern[key])
    return "/"


def _templated_paths(value: Any, path: str, out: dict[str, Any]) -> None:
    if isinstance(value, str) and "{{" in value:
        out[path] = {"combine": "AND", "matchers": [{"match": "type"}]}
    elif isinstance(value, Mapping):
        for k, v in value.items():
            _templated_paths(v, f"{path}.{k}" if str(k).isidentifier() else f"{path}['{k}']", out)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _templated_paths(v, f"{path}[{i}]", out)


def _request(logged: Mapping[str, Any], pattern: Mapping[str, Any]) -> dict[str, Any]:
    url = str(logged.get("url") or "/")
    path, _, query_string = url.partition("?")
    pairs = _logged_headers(logged)
    body_data = base64.b64decode(str(logged["bodyAsBase64"])) if logged.get("bodyAsBase64") else \
        str(logged.get("body") or "").encode("utf-8")
    ctype = _header(pairs, "Content-Type")
    keep = header_names(pattern) + (["Content-Type"] if body_data else [])
    out: dict[str, Any] = {"method": str(logged.get("method") or "GET").upper(), "path": path}
    query: dict[str, list[str]] = {}
    for name, value in parse_qsl(query_string, keep_blank_values=True):
        query.setdefault(name, []).append(value)
    if query:
        out["query"] = query
    headers = _headers(pairs, keep)
    if headers:
        out["headers"] = headers
    body = _body(body_data, ctype, guess_json=False)
    if body is not None:
        out["body"] = body
    rules: dict[str, Any] = {}
    rule = path_rule(pattern)
    if rule is not None:
        rules["path"] = rule
    for category, key in (("query", "queryParameters"), ("header", "headers")):
        found = value_rules(pattern.get(key))
        if found:
            rules[category] = found
    actual = body["content"] if body is not None and body.get("encoded") is False else None
    found_body = body_rules(pattern.get("bodyPatterns"), actual)
    if found_body and body is not None:
        rules["body"] = found_body
    if rules:
        out["matchingRules"] = rules
    return out


def _response(rendered: Rendered, definition: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"status": rendered.status}
    headers = _headers(rendered.headers)
    if headers:
        out["headers"] = headers
    body = _body(rendered.body, _header(rendered.headers, "Content-Type"),
                 guess_json=definition.get("jsonBody") is not None)
    if body is not None:
        out["body"] = body
        if "response-template" in (definition.get("transformers") or []) and definition.get("jsonBody") is not None:
            rules: dict[str, Any] = {}
            _templated_paths(definition["jsonBody"], "$", rules)
            if rules:
                out["matchingRules"] = {"body": rules}
    return out


def _extra_rules(side: dict[str, Any], extra: Any) -> None:
    if not isinstance(extra, Mapping):
        return
    rules = side.setdefault("matchingRules", {})
    for category, found in extra.items():
        if isinstance(found, Mapping):
            rules.setdefault(str(category), {}).update(found)


def interaction_of(event: Mapping[str, Any], root: Path | None, base_url: str = "") -> dict[str, Any] | None:
    """The V4 interaction of one journal entry (None when it should not be in a pact)."""
    mapping = event.get("stubMapping")
    logged = event.get("request")
    if not event.get("wasMatched", True) or not isinstance(mapping, Mapping) or not isinstance(logged, Mapping):
        return None
    metadata = mapping.get("metadata")
    meta = metadata.get("pact") if isinstance(metadata, Mapping) else None
    meta = meta if isinstance(meta, Mapping) else {}
    if meta.get("skip"):
        return None
    rendered = render_response(event, root, base_url)
    if rendered is None:
        return None
    found_pattern = mapping.get("request")
    pattern: Mapping[str, Any] = found_pattern if isinstance(found_pattern, Mapping) else {}
    request = _request(logged, pattern)
    found_definition = mapping.get("response")
    definition: Mapping[str, Any] = found_definition if isinstance(found_definition, Mapping) else {}
    response = _response(rendered, definition)
    extra = meta.get("matchingRules")
    if isinstance(extra, Mapping):
        _extra_rules(request, extra.get("request"))
        _extra_rules(response, extra.get("response"))
    description = meta.get("description") or mapping.get("name") or \
        f"{request['method']} {_url_of(pattern)} -> {rendered.status}"
    interaction: dict[str, Any] = {"type": "Synchronous/HTTP", "description": str(description),
                                   "pending": False, "request": request, "response": response}
    states = _states(meta)
    if states:
        interaction["providerStates"] = states
    return interaction


def interactions_from_journal(events: Iterable[Mapping[str, Any]], root: Path | None = None,
                              base_url: str = "") -> dict[str, dict[str, Any]]:
    """Mapping key -> interaction for the matched entries of a journal (``/__admin/requests``
    ``requests``); of several exchanges with one mapping, the one every process would pick."""
    out: dict[str, dict[str, Any]] = {}
    for event in events:
        interaction = interaction_of(event, root, base_url)
        if interaction is None:
            continue
        key = mapping_key(event["stubMapping"])
        kept = out.get(key)
        if kept is None or canonical(interaction) < canonical(kept):
            out[key] = interaction
    return out
