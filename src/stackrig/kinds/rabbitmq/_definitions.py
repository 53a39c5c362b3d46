"""The definitions a node starts with: the users' export file merged with the stack file's keys.

The file is what ``rabbitmqctl export_definitions`` or the management UI's "Download definitions"
writes (users, vhosts, permissions, topic_permissions, parameters, global_parameters, policies,
queues, exchanges, bindings); a single-vhost export (no ``vhost`` keys) applies to the service's
vhost.  Every mistake names the file, the line and the JSON path (``$.queues[2].durable``).
The stack file's ``exchanges``/``queues``/``bindings`` are added to the service's vhost (the
stack file wins over the file for the same name), and so are its ``vhost``, ``user`` (an
administrator with the stack file's password) and that user's permissions.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ...config import SpecError
from ...errors import ConfigError
from ._spec import BUILTIN_EXCHANGES, RabbitSpec

__all__ = ["Definitions", "load_definitions", "merged_definitions", "vhost_definitions", "digest"]

Definitions = dict[str, Any]

_STR, _BOOL, _INT, _OBJ, _LIST = "a string", "true or false", "an integer", "an object", "an array"
_SCALAR = "a string, number or boolean"
# section -> field -> (expected, required)
_FIELDS: dict[str, dict[str, tuple[str, bool]]] = {
    "users": {"name": (_STR, True), "password_hash": (_STR, False), "password": (_STR, False),
              "hashing_algorithm": (_STR, False), "limits": (_OBJ, False)},
    "vhosts": {"name": (_STR, True), "limits": (_LIST + " or " + _OBJ, False), "metadata": (_OBJ, False),
               "description": (_STR, False), "default_queue_type": (_STR, False)},
    "permissions": {"user": (_STR, True), "vhost": (_STR, True), "configure": (_STR, True),
                    "write": (_STR, True), "read": (_STR, True)},
    "topic_permissions": {"user": (_STR, True), "vhost": (_STR, True), "exchange": (_STR, True),
                          "write": (_STR, True), "read": (_STR, True)},
    "parameters": {"vhost": (_STR, False), "component": (_STR, True), "name": (_STR, True)},
    "global_parameters": {"name": (_STR, True)},
    "policies": {"vhost": (_STR, False), "name": (_STR, True), "pattern": (_STR, True),
                 "definition": (_OBJ, True), "apply-to": (_STR, False), "priority": (_INT, False)},
    "queues": {"name": (_STR, True), "vhost": (_STR, False), "durable": (_BOOL, False),
               "auto_delete": (_BOOL, False), "arguments": (_OBJ, False), "type": (_STR, False)},
    "exchanges": {"name": (_STR, True), "vhost": (_STR, False), "type": (_STR, True), "durable": (_BOOL, False),
                  "auto_delete": (_BOOL, False), "internal": (_BOOL, False), "arguments": (_OBJ, False)},
    "bindings": {"source": (_STR, True), "vhost": (_STR, False), "destination": (_STR, True),
                 "destination_type": (_STR, True), "routing_key": (_STR, False), "arguments": (_OBJ, False)},
}
_INFO_KEYS = ("rabbit_version", "rabbitmq_version", "product_name", "product_version")
_APPLY_TO = ("queues", "exchanges", "all", "classic_queues", "quorum_queues", "streams")
_PER_VHOST = ("parameters", "policies", "queues", "exchanges", "bindings")


def _kind(value: Any, expected: str) -> bool:
    if expected == _STR:
        return isinstance(value, str)
    if expected == _BOOL:
        return isinstance(value, bool)
    if expected == _INT:
        return isinstance(value, int) and not isinstance(value, bool)
    if expected == _OBJ:
        return isinstance(value, dict)
    if expected.startswith(_LIST):
        return isinstance(value, list | dict)
    return True


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, int | float):
        return f"the number {value}"
    return "an array" if isinstance(value, list) else "an object"


def _json_path(keys: tuple[str | int, ...]) -> str:
    out = "$"
    for k in keys:
        out += f"[{k}]" if isinstance(k, int) else f".{k}"
    return out


def json_lines(text: str) -> dict[tuple[str | int, ...], int]:
    """The line of every value in a (valid) JSON document, by path (only used to report an error)."""
    found: dict[tuple[str | int, ...], int] = {}
    pos = 0
    line = 1
    n = len(text)

    def skip() -> None:
        nonlocal pos, line
        while pos < n and text[pos] in " \t\r\n":
            if text[pos] == "\n":
                line += 1
            pos += 1

    def string() -> str:
        nonlocal pos
        start = pos
        pos += 1
        while pos < n and text[pos] != '"':
            pos += 2 if text[pos] == "\\" else 1
        pos += 1
        return str(json.loads(text[start:pos]))

    def value(path: tuple[str | int, ...]) -> None:
        nonlocal pos
        skip()
        found.setdefault(path, line)
        if pos >= n:
            return
        ch = text[pos]
        if ch == "{":
            pos += 1
            skip()
            if pos < n and text[pos] == "}":
                pos += 1
                return
            while pos < n:
                skip()
                key = string()
                skip()
                pos += 1  # ':'
                value((*path, key))
                skip()
                ch = text[pos] if pos < n else "}"
                pos += 1
                if ch == "}":
                    return
        elif ch == "[":
            pos += 1
            skip()
            if pos < n and text[pos] == "]":
                pos += 1
                return
            index = 0
            while pos < n:
                value((*path, index))
                index += 1
                skip()
                ch = text[pos] if pos < n else "]"
                pos += 1
                if ch == "]":
                    return
        elif ch == '"':
            string()
        else:
            while pos < n and text[pos] not in ",]} \t\r\n":
                pos += 1

    value(())
    return found


class _File:
    """Errors located in the definitions file."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text
        self._lines: dict[tuple[str | int, ...], int] | None = None

    def error(self, keys: tuple[str | int, ...], message: str, hint: str | None = None) -> ConfigError:
        if self._lines is None:
            self._lines = json_lines(self.text)
        line = None
        probe = keys
        while line is None:
            line = self._lines.get(probe)
            if not probe:
                break
            probe = probe[:-1]
        return ConfigError(message, file=self.path, line=line, key=_json_path(keys),
                           hint=hint or "fix the file (a `rabbitmqctl export_definitions` or management export)")


def load_definitions(path: Path) -> tuple[Definitions, str]:
    """The definitions file, validated: (the document, its text)."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ConfigError("definitions file not found", file=path,
                          hint="fix `definitions`; it is relative to the stack file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the definitions file: {exc}", file=path) from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"not valid JSON: {exc.msg} (column {exc.colno})", file=path, line=exc.lineno,
                          hint="a definitions export is one JSON object") from None
    where = _File(path, text)
    if not isinstance(doc, dict):
        raise where.error((), f"expected an object at the top, found {_describe(doc)}")
    known = (*_FIELDS, *_INFO_KEYS)
    for key, section in doc.items():
        if key in _INFO_KEYS:
            continue
        if key not in _FIELDS:
            from difflib import get_close_matches

            close = get_close_matches(key, known, n=1)
            maybe = f" (did you mean '{close[0]}'?)" if close else ""
            raise where.error((key,), f"unknown key '{key}'{maybe}", hint=f"the sections are: {', '.join(_FIELDS)}")
        if not isinstance(section, list):
            raise where.error((key,), f"expected an array, found {_describe(section)}")
        for i, item in enumerate(section):
            if not isinstance(item, dict):
                raise where.error((key, i), f"expected an object, found {_describe(item)}")
            for field, (expected, required) in _FIELDS[key].items():
                if field not in item:
                    if required:
                        raise where.error((key, i), f"missing required key '{field}' ({expected})")
                    continue
                if not _kind(item[field], expected):
                    raise where.error((key, i, field), f"expected {expected}, found {_describe(item[field])}")
            for field in ("arguments", "definition"):
                for arg, value in (item.get(field) or {}).items():
                    if isinstance(value, dict | list) and field == "arguments" and key != "bindings":
                        raise where.error((key, i, field, arg), f"expected {_SCALAR}, found {_describe(value)}")
        _check_section(where, key, section)
    _check_references(where, doc)
    return doc, text


def _check_section(where: _File, key: str, section: list[dict[str, Any]]) -> None:
    for i, item in enumerate(section):
        if key == "users" and "password" not in item and "password_hash" not in item:
            raise where.error((key, i), f"user {item['name']!r} has neither 'password_hash' nor 'password'")
        if key == "users" and "tags" in item and not isinstance(item["tags"], str | list):
            raise where.error((key, i, "tags"), f"expected a string or an array, found {_describe(item['tags'])}")
        if key == "bindings" and item["destination_type"] not in ("queue", "exchange"):
            raise where.error((key, i, "destination_type"),
                              f"expected \"queue\" or \"exchange\", found {_describe(item['destination_type'])}")
        if key == "policies" and item.get("apply-to", "all") not in _APPLY_TO:
            raise where.error((key, i, "apply-to"), f"expected one of {', '.join(_APPLY_TO)}, found "
                                                    f"{_describe(item['apply-to'])}")
        if key == "exchanges" and str(item["name"]).startswith("amq."):
            raise where.error((key, i, "name"), f"exchange {item['name']!r}: names starting with 'amq.' are "
                                                "RabbitMQ's own (an export leaves them out)")


def _check_references(where: _File, doc: Mapping[str, Any]) -> None:
    """Bindings name exchanges and queues of their vhost (RabbitMQ refuses the import otherwise)."""
    default = object()
    names: dict[tuple[object, str], set[str]] = {}
    for kind in ("exchanges", "queues"):
        for item in doc.get(kind, []):
            names.setdefault((item.get("vhost", default), kind), set()).add(item["name"])
    for i, b in enumerate(doc.get("bindings", [])):
        vhost = b.get("vhost", default)
        exchanges = names.get((vhost, "exchanges"), set()) | set(BUILTIN_EXCHANGES) | {""}
        if b["source"] not in exchanges:
            raise where.error(("bindings", i, "source"), f"exchange {b['source']!r} is not in the file's exchanges"
                                                         + (f" of vhost {vhost!r}" if vhost is not default else ""))
        pool = names.get((vhost, f"{b['destination_type']}s"), set())
        if b["destination_type"] == "exchange":
            pool = pool | set(BUILTIN_EXCHANGES)
        if b["destination"] not in pool:
            raise where.error(("bindings", i, "destination"), f"{b['destination_type']} {b['destination']!r} is "
                                                              "not in the file's "
                                                              f"{b['destination_type']}s"
                                                              + (f" of vhost {vhost!r}" if vhost is not default
                                                                 else ""))


def merged_definitions(spec: RabbitSpec, root: Path, stack_file: Path) -> Definitions:
    """What the node imports at its first (cached) boot."""
    doc: Definitions = {}
    if spec.definitions:
        path = Path(spec.definitions).expanduser()
        doc, _ = load_definitions(path if path.is_absolute() else root / path)
        doc = {k: [dict(item) for item in v] for k, v in doc.items() if k in _FIELDS}
    vhost = spec.vhost
    for key in _PER_VHOST:
        for item in doc.get(key, []):
            item.setdefault("vhost", vhost)
    in_vhost = {kind: {i["name"] for i in doc.get(kind, []) if i["vhost"] == vhost} for kind in ("exchanges", "queues")}
    try:
        spec.check_names(in_vhost["exchanges"], in_vhost["queues"])
    except SpecError as exc:
        key = exc.key or ""
        raise ConfigError(str(exc), file=stack_file, line=stack_line(stack_file, spec.name, key),
                          key=f"services.{spec.name}.{key}".rstrip("."),
                          hint=f"names come from the stack file's `exchanges`/`queues` and from {spec.definitions}"
                          ) from None

    def upsert(key: str, item: dict[str, Any], same: tuple[str, ...]) -> None:
        items = [i for i in doc.get(key, []) if tuple(i.get(k) for k in same) != tuple(item.get(k) for k in same)]
        doc[key] = [*items, item]

    upsert("vhosts", {"name": vhost, **_existing(doc, "vhosts", {"name": vhost})}, ("name",))
    upsert("users", {"name": spec.user, "password": spec.password, "tags": ["administrator"]}, ("name",))
    upsert("permissions", {"user": spec.user, "vhost": vhost, "configure": ".*", "write": ".*", "read": ".*"},
           ("user", "vhost"))
    for x in spec.exchanges:
        upsert("exchanges", {"name": x.name, "vhost": vhost, "type": x.type, "durable": x.durable,
                             "auto_delete": x.auto_delete, "internal": x.internal, "arguments": dict(x.arguments)},
               ("vhost", "name"))
    for q in spec.queues:
        upsert("queues", {"name": q.name, "vhost": vhost, "durable": q.durable, "auto_delete": q.auto_delete,
                          "arguments": dict(q.queue_arguments)}, ("vhost", "name"))
    for b in spec.bindings:
        kind, dest = b.destination
        upsert("bindings", {"source": b.exchange, "vhost": vhost, "destination": dest, "destination_type": kind,
                            "routing_key": b.routing_key, "arguments": dict(b.arguments)},
               ("vhost", "source", "destination", "destination_type", "routing_key"))
    for key in _FIELDS:
        doc.setdefault(key, [])
    return doc


def stack_line(stack_file: Path, service: str, key: str) -> int | None:
    """The line of `key` in `[services.<service>]` (or of the table), for errors found after loading.
    (The loader's own locator is private to the config layer.)"""
    import re

    try:
        lines = stack_file.read_text().splitlines()
    except OSError:
        return None
    table_line = None
    current: str | None = None
    header = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?")
    for no, text in enumerate(lines, start=1):
        m = header.match(text)
        if m:
            current = m.group(1).replace('"', "").replace(" ", "")
            if current == f"services.{service}" and table_line is None:
                table_line = no
            if key and current == f"services.{service}.{key}":
                return no
            continue
        if current == f"services.{service}" and key and re.match(rf"^\s*{re.escape(key)}\s*=", text):
            return no
    return table_line


def _existing(doc: Definitions, key: str, match: dict[str, Any]) -> dict[str, Any]:
    for item in doc.get(key, []):
        if all(item.get(k) == v for k, v in match.items()):
            return {k: v for k, v in item.items() if k not in match}
    return {}


def vhost_definitions(doc: Definitions, vhost: str) -> Definitions:
    """The objects of one vhost, without their `vhost` keys (what a pytest-xdist worker's vhost gets)."""
    out: Definitions = {}
    for key in _PER_VHOST:
        out[key] = [{k: v for k, v in item.items() if k != "vhost"} for item in doc.get(key, [])
                    if item.get("vhost") == vhost]
    return out


def digest(doc: Definitions) -> str:
    return hashlib.sha256(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
