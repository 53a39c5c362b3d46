"""Missing rate limit on login: a burst of failed logins must meet a 429, a ``Retry-After`` or a lockout.

An operation looks like a login when it is a POST whose path (last segments), operationId or
summary says login / log-in / sign-in / signin / logon / authenticate / token / session — or whose
tags say auth and whose body has a password field — and it is not a registration, logout, refresh
or reset. It gets `attempts` (default 25) logins with a made-up user and a wrong password, one after
another as fast as it answers (at most 30 s). A finding: at least 20 of them answered as failed
(400, 401, 403, 404) and none with 429, 423, 503 + ``Retry-After``, a ``Retry-After`` header or a
body that says it is locked or that there were too many attempts.
"""

from __future__ import annotations

import re
import secrets
import time
from collections import Counter

from ._context import Context
from ._http import Sent, Values, wire_text
from ._schema import Operation, Param
from ._values import words

__all__ = ["check_rate_limit", "looks_like_login"]

MIN_FAILED = 20
BUDGET_S = 30.0
_LOGIN = {"login", "signin", "logon", "authenticate", "token", "tokens", "session", "sessions", "auth"}
_NOT_LOGIN = {"register", "registration", "signup", "logout", "signout", "refresh", "reset", "forgot", "verify",
              "revoke", "introspect", "confirm"}
_PASSWORD = {"password", "passwd", "pass", "pwd", "secret", "pin", "passphrase"}
_USER = {"username", "user", "email", "login", "name", "mail", "account", "identifier", "phone"}
_LOCKED = re.compile(r"too many|locked|lockout|rate.?limit|slow down|try again later", re.I)


def _joined(text: str) -> set[str]:
    found = words(text)
    pairs = {a + b for a, b in zip(found, found[1:], strict=False)}  # "sign in" -> "signin", "log on" -> "logon"
    return set(found) | pairs


def _password_fields(op: Operation) -> list[Param]:
    return [f for f in op.body_fields if set(words(f.name.split(".")[-1])) & _PASSWORD and f.type == "string"]


def looks_like_login(op: Operation) -> bool:
    if op.method != "POST" or op.body_type is None:
        return False
    segments = [s for s in op.path.split("/") if s and not s.startswith("{")][-2:]
    said = set().union(*(_joined(s) for s in segments), _joined(op.operation_id), _joined(op.summary))
    if said & _NOT_LOGIN:
        return False
    last = _joined(segments[-1]) if segments else set()
    if last & _LOGIN - {"auth"} or _joined(op.operation_id) & (_LOGIN - {"auth", "token", "session"}):
        return True
    tagged = set().union(*(_joined(t) for t in op.tags)) & {"auth", "login", "authentication", "session"}
    return bool((tagged or last & {"auth"}) and _password_fields(op))


def _attempt_values(ctx: Context, op: Operation) -> Values:
    values, _ = ctx.baseline(op)
    user = "stackrig-scan-" + secrets.token_hex(4)
    for f in op.body_fields:
        name = set(words(f.name.split(".")[-1]))
        if f.type != "string":
            continue
        if name & _PASSWORD:
            values = values.with_value(f, "wrong-" + secrets.token_hex(8))
        elif name & _USER:
            email = "email" in name or "mail" in name or f.schema.get("format") == "email"
            values = values.with_value(f, f"{user}@example.com" if email else user)
    return values


def _limited(sent: Sent) -> bool:
    return (sent.status in (429, 423) or "retry-after" in sent.headers
            or "x-ratelimit-remaining" in sent.headers and sent.headers["x-ratelimit-remaining"].strip() == "0"
            or bool(_LOCKED.search(sent.text[:2000])) and sent.status >= 400)


def check_rate_limit(ctx: Context) -> None:
    for op in ctx.schema.operations:
        if not looks_like_login(op):
            continue
        values = _attempt_values(ctx, op)
        statuses: Counter[int] = Counter()
        start = time.perf_counter()
        first: Sent | None = None
        stopped = ""
        for _ in range(ctx.login_attempts):
            sent = ctx.send(op, values, auth=False)
            if sent is None or sent.status == 0:
                stopped = "a request failed" if sent is None else f"a request failed ({sent.error})"
                break
            first = first or sent
            statuses[sent.status] += 1
            if _limited(sent):
                stopped = "limited"
                break
            if time.perf_counter() - start > BUDGET_S:
                stopped = "out of time"
                break
        elapsed = time.perf_counter() - start
        failed = sum(n for code, n in statuses.items() if code in (400, 401, 403, 404))
        if stopped == "limited" or first is None:
            continue
        if failed >= MIN_FAILED:
            answered = ", ".join(f"{code} ×{n}" for code, n in sorted(statuses.items()))
            ctx.found("rate-limit", op, f"{failed} failed logins in {elapsed:.1f} s, none limited",
                      f"{sum(statuses.values())} logins with a wrong password in {elapsed:.2f} s answered {answered}: "
                      f"no 429, no Retry-After, no lockout", first, location="body",
                      parameter=", ".join(f.name for f in _password_fields(op)) or None,
                      payload=f"{sum(statuses.values())} × {wire_text(values.body)}")
        elif statuses:
            answered = ", ".join(f"{code} ×{n}" for code, n in sorted(statuses.items()))
            ctx.note(f"{op.label} looks like a login, but the failed-login burst was answered {answered}"
                     f"{' (' + stopped + ')' if stopped else ''}: the scan could not tell whether it is rate "
                     f"limited")
