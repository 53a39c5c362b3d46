"""The OpenAPI schema: fetch (URL) or read (file), parse (JSON or YAML), check, and list the operations
with every parameter and JSON body field the scanner injects into.

Every way this can go wrong is a :class:`SchemaError` naming the URL or file and what was wrong.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ._errors import SchemaError

__all__ = ["ApiSchema", "Operation", "Param", "load_schema", "parse_schema", "read_schema"]

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
LOCATIONS = ("path", "query", "header", "cookie")
MAX_FIELD_DEPTH = 3


@dataclass(frozen=True)
class Param:
    """A parameter (path, query, header, cookie) or a JSON/form body field (location ``body``; `name`
    dotted for nested fields)."""

    name: str
    location: str
    schema: dict[str, Any]
    required: bool = False

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self.name.split(".")) if self.location == "body" else (self.name,)

    @property
    def type(self) -> str:
        kind = self.schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), None)
        if kind is None:
            kind = "object" if "properties" in self.schema else "array" if "items" in self.schema else "string"
        return str(kind)


@dataclass
class Operation:
    method: str  # upper case
    path: str  # the template, as in the schema
    operation_id: str = ""
    tags: tuple[str, ...] = ()
    summary: str = ""
    params: list[Param] = field(default_factory=list)
    body_type: str | None = None  # "json", "form" or None
    body_schema: dict[str, Any] | None = None
    body_fields: list[Param] = field(default_factory=list)
    body_required: bool = False
    security: list[dict[str, Any]] = field(default_factory=list)  # the effective requirements
    declares_html: bool = False

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def secured(self) -> bool:
        """The schema requires credentials: some requirement, and none of them empty (``{}`` = optional)."""
        return bool(self.security) and all(bool(req) for req in self.security)

    @property
    def points(self) -> list[Param]:
        """Everything a value can be injected into: the parameters, then the body's leaf fields."""
        leaves = [f for f in self.body_fields if f.type not in ("object", "array")]
        return [*self.params, *leaves]


@dataclass
class ApiSchema:
    location: str
    document: dict[str, Any]
    version: str
    operations: list[Operation]
    base_path: str = ""
    security_schemes: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def base_url(self, service_url: str) -> str:
        """Where the operations are: the service's URL plus the schema's server path (once)."""
        base = service_url.rstrip("/")
        if self.base_path and not urlsplit(base).path.rstrip("/").endswith(self.base_path):
            base += self.base_path
        return base


def read_schema(location: str, *, headers: dict[str, str] | None = None, timeout: float = 10.0,
                ) -> tuple[str, str | None]:
    """The schema's text and content type, from an http(s) URL or a file."""
    if location.startswith(("http://", "https://")):
        import httpx

        try:
            response = httpx.get(location, headers=headers or {}, timeout=timeout, follow_redirects=True)
        except httpx.ConnectError as exc:
            raise SchemaError(f"cannot fetch the OpenAPI schema at {location}: the connection failed ({exc})",
                              location=location, hint="is the service running, and is this its URL?") from None
        except httpx.TimeoutException:
            raise SchemaError(f"cannot fetch the OpenAPI schema at {location}: no answer within {timeout:g} s",
                              location=location) from None
        except httpx.HTTPError as exc:
            raise SchemaError(f"cannot fetch the OpenAPI schema at {location}: {type(exc).__name__}: {exc}",
                              location=location) from None
        if response.status_code != 200:
            raise SchemaError(f"cannot fetch the OpenAPI schema at {location}: it answered {response.status_code} "
                              f"{response.reason_phrase}", location=location,
                              hint="pass --openapi URL_OR_PATH when the service serves its schema elsewhere")
        return response.text, response.headers.get("content-type")
    if location.startswith(("ftp://", "file://")):
        raise SchemaError(f"cannot fetch the OpenAPI schema at {location}: only http(s) URLs and file paths are "
                          f"supported", location=location)
    if not os.path.exists(location):
        raise SchemaError(f"no OpenAPI file at {location}", location=location,
                          hint="pass the path of a JSON or YAML file, or an http(s) URL")
    if os.path.isdir(location):
        raise SchemaError(f"the OpenAPI schema {location} is a folder, not a file", location=location)
    try:
        with open(location, encoding="utf-8") as fh:
            return fh.read(), None
    except (OSError, UnicodeDecodeError) as exc:
        raise SchemaError(f"cannot read the OpenAPI file {location}: {exc}", location=location) from None


def _decode(text: str, content_type: str | None, location: str) -> Any:
    stripped = text.lstrip()
    as_json = stripped[:1] in ("{", "[") or "json" in (content_type or "") or location.endswith(".json")
    if as_json:
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise SchemaError(f"the OpenAPI schema at {location} is not valid JSON: {exc.msg} (line {exc.lineno}, "
                              f"column {exc.colno})", location=location) from None
    import importlib

    try:
        yaml = importlib.import_module("yaml")
    except ImportError:
        raise SchemaError(f"the OpenAPI schema at {location} is not JSON, and reading YAML needs PyYAML",
                          location=location, hint="pip install pyyaml, or pass the schema as JSON") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SchemaError(f"the OpenAPI schema at {location} is neither JSON nor valid YAML: {problem}{where}",
                          location=location) from None


def load_schema(location: str, *, headers: dict[str, str] | None = None, timeout: float = 10.0) -> ApiSchema:
    text, content_type = read_schema(location, headers=headers, timeout=timeout)
    return parse_schema(_decode(text, content_type, location), location)


class _Resolver:
    def __init__(self, document: dict[str, Any], location: str) -> None:
        self.document = document
        self.location = location

    def fail(self, pointer: str, what: str) -> SchemaError:
        return SchemaError(f"the OpenAPI schema at {self.location} is not valid: {pointer or '/'} {what}",
                           location=self.location)

    def target(self, ref: str, pointer: str) -> Any:
        if not ref.startswith("#"):
            raise self.fail(pointer, f"refers to another document ({ref!r}); only local $refs are supported")
        node: Any = self.document
        for raw in ref[1:].split("/")[1:]:
            key = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and key in node:
                node = node[key]
            elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
                node = node[int(key)]
            else:
                raise self.fail(pointer, f"has a $ref that points at nothing: {ref!r}")
        return node

    def deref(self, node: Any, pointer: str, seen: tuple[str, ...] = ()) -> Any:
        """`node` with its own $ref (chain) followed."""
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if ref in seen:
                return {}
            seen = (*seen, ref)
            node = self.target(ref, pointer)
        return node

    def schema(self, node: Any, pointer: str, depth: int = 0, seen: tuple[str, ...] = ()) -> dict[str, Any]:
        """A JSON schema with $refs followed (to a bounded depth; a cycle is unrolled once, then ends as {})."""
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            if seen.count(node["$ref"]) >= 2 or depth > 12:
                return {}
            seen = (*seen, node["$ref"])
            node = self.target(node["$ref"], pointer)
        if not isinstance(node, dict):
            return {}
        out = dict(node)
        if isinstance(out.get("properties"), dict):
            out["properties"] = {k: self.schema(v, pointer, depth + 1, seen) for k, v in out["properties"].items()}
        if isinstance(out.get("items"), dict):
            out["items"] = self.schema(out["items"], pointer, depth + 1, seen)
        for key in ("allOf", "oneOf", "anyOf"):
            if isinstance(out.get(key), list):
                out[key] = [self.schema(v, pointer, depth + 1, seen) for v in out[key]]
        if isinstance(out.get("allOf"), list):  # merge the members' properties into one object
            props: dict[str, Any] = dict(out.get("properties") or {})
            required = list(out.get("required") or [])
            for member in out["allOf"]:
                props.update(member.get("properties") or {})
                required += list(member.get("required") or [])
                out.setdefault("type", member.get("type"))
            if props:
                out["properties"], out["required"] = props, required
        return out


def _fields(schema: dict[str, Any], prefix: str = "", depth: int = 0) -> list[Param]:
    """Every property of a body schema, nested ones dotted (to MAX_FIELD_DEPTH)."""
    if depth >= MAX_FIELD_DEPTH:
        return []
    for key in ("oneOf", "anyOf"):
        if not schema.get("properties") and isinstance(schema.get(key), list) and schema[key]:
            schema = next((s for s in schema[key] if s.get("type") != "null"), schema[key][0])
    props = schema.get("properties")
    if not isinstance(props, dict):
        return []
    required = set(schema.get("required") or [])
    out: list[Param] = []
    for name, sub in props.items():
        if not isinstance(sub, dict) or sub.get("readOnly"):
            continue
        dotted = f"{prefix}{name}"
        param = Param(dotted, "body", sub, name in required)
        out.append(param)
        if param.type == "object":
            out.extend(_fields(sub, dotted + ".", depth + 1))
    return out


def _base_path(document: dict[str, Any]) -> str:
    if "swagger" in document:
        path = document.get("basePath") or ""
        return path.rstrip("/") if isinstance(path, str) else ""
    servers = document.get("servers")
    if not isinstance(servers, list) or not servers or not isinstance(servers[0], dict):
        return ""
    url = str(servers[0].get("url") or "")
    for name, var in (servers[0].get("variables") or {}).items():
        if isinstance(var, dict):
            url = url.replace("{" + name + "}", str(var.get("default", "")))
    path = urlsplit(url).path if "://" in url else url
    return path.rstrip("/")


def parse_schema(document: Any, location: str) -> ApiSchema:
    """The operations of an OpenAPI 3.x (or Swagger 2.0) document."""
    if not isinstance(document, dict):
        shown = json.dumps(document)[:60] if not isinstance(document, str) else repr(document[:60])
        raise SchemaError(f"the OpenAPI schema at {location} is not an OpenAPI document: it is a "
                          f"{type(document).__name__}, not an object ({shown})", location=location)
    version = document.get("openapi", document.get("swagger"))
    if version is None:
        raise SchemaError(f"the OpenAPI schema at {location} is not an OpenAPI document: it has neither an "
                          f"'openapi' nor a 'swagger' field", location=location,
                          hint="point --openapi at the service's OpenAPI (Swagger) JSON or YAML")
    version = str(version)
    if not (version.startswith("3.") or version == "2.0"):
        raise SchemaError(f"the OpenAPI schema at {location} has version {version!r}: supported are 3.0, 3.1 "
                          f"and Swagger 2.0", location=location)
    paths = document.get("paths")
    if not isinstance(paths, dict):
        what = "has no 'paths'" if paths is None else f"'paths' is a {type(paths).__name__}, not an object"
        raise SchemaError(f"the OpenAPI schema at {location} is not valid: it {what}", location=location)
    resolver = _Resolver(document, location)
    swagger = version == "2.0"
    schemes_key = ("securityDefinitions",) if swagger else ("components", "securitySchemes")
    schemes: Any = document
    for key in schemes_key:
        schemes = schemes.get(key) if isinstance(schemes, dict) else None
    schemes = schemes if isinstance(schemes, dict) else {}
    top_security: list[dict[str, Any]] = [r for r in document.get("security") or [] if isinstance(r, dict)] \
        if isinstance(document.get("security"), list) else []
    operations: list[Operation] = []
    for path, item in paths.items():
        pointer = "/paths/" + str(path).replace("~", "~0").replace("/", "~1")
        item = resolver.deref(item, pointer)
        if not isinstance(item, dict):
            raise resolver.fail(pointer, f"is a {type(item).__name__}, not an object")
        shared = item.get("parameters") or []
        for method in METHODS:
            if method not in item:
                continue
            op = resolver.deref(item[method], f"{pointer}/{method}")
            if not isinstance(op, dict):
                raise resolver.fail(f"{pointer}/{method}", f"is a {type(op).__name__}, not an object")
            operations.append(_operation(resolver, str(path), method, op, shared, f"{pointer}/{method}", swagger,
                                         top_security))
    return ApiSchema(location=location, document=document, version=version, operations=operations,
                     base_path=_base_path(document),
                     security_schemes={k: resolver.deref(v, "/components/securitySchemes") for k, v in schemes.items()
                                       if isinstance(v, dict)})


def _operation(resolver: _Resolver, path: str, method: str, op: dict[str, Any], shared: Any, pointer: str,
               swagger: bool, top_security: list[dict[str, Any]]) -> Operation:
    raw = op.get("parameters") or []
    for what, value in (("parameters", raw), ("path parameters", shared)):
        if not isinstance(value, list):
            raise resolver.fail(pointer, f"{what} is a {type(value).__name__}, not a list")
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for i, p in enumerate([*shared, *raw]):
        p = resolver.deref(p, f"{pointer}/parameters/{i}")
        if not isinstance(p, dict) or "name" not in p or "in" not in p:
            raise resolver.fail(f"{pointer}/parameters/{i}", "is not a parameter (it needs 'name' and 'in')")
        merged[(str(p["name"]), str(p["in"]))] = p
    result = Operation(method=method.upper(), path=path, operation_id=str(op.get("operationId") or ""),
                       tags=tuple(str(t) for t in op.get("tags") or ()), summary=str(op.get("summary") or ""))
    security = op.get("security", top_security)
    result.security = [r for r in security if isinstance(r, dict)] if isinstance(security, list) else []
    form: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
    for (name, where), p in merged.items():
        if swagger and where == "body":
            result.body_type, result.body_required = "json", bool(p.get("required"))
            result.body_schema = resolver.schema(p.get("schema") or {}, pointer)
            continue
        if swagger and where == "formData":
            form["properties"][name] = {k: v for k, v in p.items() if k not in ("name", "in", "required")}
            if p.get("required"):
                form["required"].append(name)
            continue
        if where not in LOCATIONS:
            continue
        schema = p.get("schema")
        if schema is None and isinstance(p.get("content"), dict) and p["content"]:
            schema = next(iter(p["content"].values())).get("schema")
        if schema is None and swagger:
            schema = {k: v for k, v in p.items() if k not in ("name", "in", "required", "description")}
        result.params.append(Param(name, where, resolver.schema(schema or {}, pointer),
                                   bool(p.get("required")) or where == "path"))
    if form["properties"]:
        result.body_type, result.body_schema = "form", form
    body = resolver.deref(op.get("requestBody"), f"{pointer}/requestBody")
    if isinstance(body, dict) and isinstance(body.get("content"), dict):
        content = body["content"]
        json_type = next((t for t in content if t.split(";")[0].strip().endswith(("/json", "+json"))), None)
        form_type = next((t for t in content if t.startswith("application/x-www-form-urlencoded")), None)
        chosen = json_type or form_type
        if chosen is not None:
            media = content[chosen] if isinstance(content[chosen], dict) else {}
            result.body_type = "json" if chosen == json_type else "form"
            result.body_schema = resolver.schema(media.get("schema") or {}, pointer)
            result.body_required = bool(body.get("required"))
    if result.body_schema is not None:
        result.body_fields = _fields(result.body_schema)
    for code, response in (op.get("responses") or {}).items():
        response = resolver.deref(response, f"{pointer}/responses/{code}")
        if isinstance(response, dict) and any("html" in str(t) for t in response.get("content") or {}):
            result.declares_html = True
    if swagger and any("html" in str(t) for t in op.get("produces") or ()):
        result.declares_html = True
    return result
