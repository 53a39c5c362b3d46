"""The per-operation checks: each parameter and body field gets SQL injection, reflected XSS, path
traversal (when it looks like a file name or path) and a wrong type; each JSON body gets malformed
JSON. Everything is compared with the operation's benign request."""

from __future__ import annotations

import re
import secrets

from ._context import Context, excerpt
from ._http import Sent, Values, wire_text
from ._payloads import file_signatures, traversal_payloads, xss_payloads
from ._schema import Operation, Param
from ._sqli import check_sql_injection
from ._values import words, wrong_type

__all__ = ["scan_operation", "looks_like_a_path"]

_FILE_WORDS = {"file", "files", "filename", "filenames", "fname", "filepath", "path", "paths", "dir", "directory",
               "folder", "doc", "document", "template", "tpl", "attachment", "download", "resource", "include",
               "src", "asset", "image", "img", "upload", "logfile", "location"}
_FILE_ROUTES = {"file", "files", "download", "downloads", "attachment", "attachments", "asset", "assets", "static",
                "document", "documents", "docs", "image", "images", "export", "exports", "media", "upload", "uploads"}
_FILE_VALUE = re.compile(r"^[\w.-]+\.[A-Za-z0-9]{1,5}$|/")
MALFORMED_JSON = b'{"stackrig": '


def looks_like_a_path(op: Operation, point: Param, value: object) -> bool:
    """A string parameter named like a file or path, or of an operation about files, or whose benign
    value looks like a file name."""
    if point.type != "string":
        return False
    names = set(words(point.name))
    if names & _FILE_WORDS:
        return True
    if isinstance(value, str) and _FILE_VALUE.search(value):
        return True
    route = {w for segment in op.path.split("/") if not segment.startswith("{") for w in words(segment)}
    return bool(route & _FILE_ROUTES) and bool(names & {"name", "key", "id", "filename"})


def _xss(ctx: Context, op: Operation, values: Values, point: Param, text: str) -> None:
    marker = "stk" + secrets.token_hex(4)
    for template in xss_payloads():
        payload = template.replace("{m}", marker)
        sent = ctx.send(op, values.with_value(point, text + payload))
        if sent is None or not sent.is_html:
            continue
        body = sent.text
        at = body.find(payload)
        if at >= 0:
            ctx.found("xss", op, "the payload comes back unescaped in an HTML response",
                      f"{sent.status} {sent.content_type}: {excerpt(body, at, at + len(payload))}", sent,
                      point=point, payload=text + payload)
            return


def _traversal(ctx: Context, op: Operation, values: Values, base: Sent, point: Param) -> None:
    seen = {name for name, pattern in file_signatures() if pattern.search(base.text)}
    in_url = point.location in ("query", "path")
    for payload in traversal_payloads():
        if "%" in payload and not in_url:
            continue
        sent = ctx.send(op, values.with_value(point, payload, raw=in_url))
        if sent is None or sent.status == 0:
            continue
        for name, pattern in file_signatures():
            match = pattern.search(sent.text) if name not in seen else None
            if match:
                ctx.found("path-traversal", op, f"the response carries {name}",
                          f"{sent.status}: {excerpt(sent.text, match.start(), match.end(), 40)}", sent,
                          point=point, payload=payload)
                return


def _wrong_type(ctx: Context, op: Operation, values: Values, base: Sent, point: Param) -> None:
    wrong = wrong_type(point.schema, point.location)
    if wrong is None or base.server_error:
        return
    sent = ctx.send(op, values.with_value(point, wrong))
    if sent is not None and sent.server_error:
        ctx.found("server-error", op, f"{sent.status} on a value of the wrong type",
                  f"{point.type} expected, {type(wrong).__name__} sent: {sent.status} {sent.text[:160]!r}", sent,
                  point=point, payload=wire_text(wrong))


def _malformed(ctx: Context, op: Operation, values: Values, base: Sent) -> None:
    if op.body_type != "json" or base.server_error:
        return
    for content, what in ((MALFORMED_JSON, "malformed JSON"), (b"[]", "a JSON array where an object goes")):
        if what.startswith("a JSON array") and (op.body_schema or {}).get("type") == "array":
            continue
        sent = ctx.send(op, values, content=content, content_type="application/json")
        if sent is not None and sent.server_error:
            ctx.found("server-error", op, f"{sent.status} on {what}", f"{sent.status} {sent.text[:160]!r}", sent,
                      payload=content.decode(), location="body")
            return


def scan_operation(ctx: Context, op: Operation) -> None:
    """Every injection check of the scan on every parameter and body field of `op`."""
    wanted = set(ctx.checks)
    if not wanted & {"sql-injection", "xss", "path-traversal", "server-error"}:
        return
    values, base = ctx.baseline(op)
    if base is None or base.status == 0:
        ctx.note(f"{op.label}: the benign request could not be sent ({base.error if base else 'not sendable'}); "
                 f"its injection checks were skipped")
        return
    if base.status in (401, 403) and op.secured and not ctx.target.auth:
        if op.points:
            ctx.note(f"{op.label} answered {base.status} to the benign request: its parameters were not scanned "
                     f"(pass --auth to scan behind authentication)")
        return
    if "server-error" in wanted:
        _malformed(ctx, op, values, base)
    for point in op.points:
        current = values.get(point)
        text = "" if current is None or isinstance(current, dict | list) else wire_text(current)
        if "sql-injection" in wanted:
            check_sql_injection(ctx, op, values, base, point)
        if "xss" in wanted and (point.type == "string" or point.location != "body"):
            _xss(ctx, op, values, point, text)
        if "path-traversal" in wanted and looks_like_a_path(op, point, current):
            _traversal(ctx, op, values, base, point)
        if "server-error" in wanted:
            _wrong_type(ctx, op, values, base, point)
