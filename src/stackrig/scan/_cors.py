"""CORS: does the service let a page from any origin read its answers?

A few operations get an ``Origin`` the service cannot expect (and ``Origin: null``), as a simple
request and as a preflight (``OPTIONS`` with ``Access-Control-Request-Method``). Findings:

* the arbitrary (or ``null``) origin echoed in ``Access-Control-Allow-Origin`` with
  ``Access-Control-Allow-Credentials: true`` — high: any site reads what the user's cookies unlock;
* ``Access-Control-Allow-Origin: *`` with ``Access-Control-Allow-Credentials: true`` — medium
  (browsers refuse the pair, but it shows the policy allows everyone);
* the arbitrary origin echoed without credentials — low.

CORS is usually one policy for the whole service, so each of these is reported once, at the first
operation that shows it, saying how many others do too.
"""

from __future__ import annotations

from ._context import Context
from ._http import Sent
from ._schema import Operation

__all__ = ["check_cors", "EVIL_ORIGIN"]

EVIL_ORIGIN = "https://stackrig-scan.evil.example"
MAX_OPERATIONS = 4
_RANK = {"high": 0, "medium": 1, "low": 2}


def _verdict(sent: Sent, origin: str) -> tuple[str, str] | None:
    allowed = sent.headers.get("access-control-allow-origin")
    credentials = sent.headers.get("access-control-allow-credentials", "").strip().lower() == "true"
    if allowed is None:
        return None
    allowed = allowed.strip()
    if allowed == origin and credentials:
        who = "the null origin" if origin == "null" else "an arbitrary origin"
        return "high", f"{who} is allowed, with credentials"
    if allowed == "*" and credentials:
        return "medium", "'*' is allowed together with Access-Control-Allow-Credentials: true"
    if allowed == origin and origin != "null":
        return "low", "an arbitrary origin is allowed (without credentials)"
    return None


def _evidence(sent: Sent) -> str:
    names = ("access-control-allow-origin", "access-control-allow-credentials", "access-control-allow-methods",
             "access-control-allow-headers")
    shown = [f"{n.title()}: {sent.headers[n]}" for n in names if n in sent.headers]
    return f"{sent.status}; " + "; ".join(shown)


def _candidates(ctx: Context) -> list[Operation]:
    ops = [op for op in ctx.schema.operations if "{" not in op.path] or list(ctx.schema.operations)
    ops.sort(key=lambda op: (op.method != "GET", op.secured, op.path))
    return ops[:MAX_OPERATIONS]


def check_cors(ctx: Context) -> None:
    hits: dict[tuple[str, str, bool], list[tuple[Operation, Sent, str]]] = {}
    for op in _candidates(ctx):
        values, base = ctx.baseline(op)
        if base is None or base.status == 0:
            continue
        simple = values.copy()
        for origin in (EVIL_ORIGIN, "null"):
            sent = ctx.send(op, simple, headers={"Origin": origin})
            verdict = _verdict(sent, origin) if sent is not None else None
            if sent is not None and verdict is not None:
                hits.setdefault((*verdict, False), []).append((op, sent, origin))
        bare = values.copy()
        bare.body = None
        preflight = ctx.send(op, bare, method="OPTIONS", headers={
            "Origin": EVIL_ORIGIN, "Access-Control-Request-Method": op.method,
            "Access-Control-Request-Headers": "authorization, content-type"})
        verdict = _verdict(preflight, EVIL_ORIGIN) if preflight is not None else None
        if preflight is not None and verdict is not None and preflight.status < 400:
            hits.setdefault((*verdict, True), []).append((op, preflight, EVIL_ORIGIN))
    for (severity, title, is_preflight), seen in sorted(hits.items(), key=lambda kv: _RANK[kv[0][0]]):
        op, sent, origin = seen[0]
        more = len({o.label for o, _, _ in seen}) - 1
        others = f" (and {more} other operation{'s' if more > 1 else ''})" if more else ""
        what = f"preflight: {title}" if is_preflight else title
        ctx.found("cors", op, what + others, _evidence(sent), sent, payload=f"Origin: {origin}", severity=severity,
                  location="header", parameter="Origin (preflight)" if is_preflight else "Origin")
