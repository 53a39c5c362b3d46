"""Missing authentication: operations the schema marks as secured (``security`` with the
``securitySchemes`` it names) must not answer 2xx to a request without valid credentials.

Each secured operation gets its benign request without the `--auth` headers; a 2xx is a finding.
When that answers 401/403, it gets the request again with bad credentials, each a finding if it
answers 2xx:

* with a JWT given (``Authorization: Bearer <jwt>``, or a JWT as any header's value): the token
  with a flipped signature byte, the token re-made with ``alg: none``, and — only when the signing
  key is known (`jwt_secret`, HS256/384/512) — a copy of its claims signed with ``exp`` in the past.
  Without the key no validly signed expired token can be made: that variant is skipped, and a
  note says so;
* with another credential: the same credential with its last character changed;
* with none given: forged credentials for the schemes the operation names (a bearer JWT with
  ``alg: none`` and one signed with a random key, a made-up API key, basic credentials).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from ._context import Context
from ._schema import Operation

__all__ = ["check_missing_auth", "jwt_variants", "is_jwt"]

_HASHES = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _split(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes] | None:
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        header, claims = json.loads(_unb64(parts[0])), json.loads(_unb64(parts[1]))
        signature = _unb64(parts[2])
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(header, dict) or not isinstance(claims, dict) or "alg" not in header:
        return None
    return header, claims, signature


def is_jwt(token: str) -> bool:
    return _split(token) is not None


def _encode(header: dict[str, Any], claims: dict[str, Any], key: bytes | None) -> str:
    head = _b64(json.dumps(header, separators=(",", ":")).encode())
    body = _b64(json.dumps(claims, separators=(",", ":")).encode())
    if key is None:
        return f"{head}.{body}."
    digest = _HASHES.get(str(header.get("alg")), hashlib.sha256)
    return f"{head}.{body}.{_b64(hmac.new(key, f'{head}.{body}'.encode(), digest).digest())}"


def jwt_variants(token: str, secret: str | None = None) -> list[tuple[str, str]]:
    """(description, token) of the bad copies of `token`."""
    split = _split(token)
    if split is None:
        return []
    header, claims, signature = split
    head, body, _ = token.split(".")
    flipped = bytearray(signature or b"\0")
    flipped[len(flipped) // 2] ^= 0x01
    out = [("a JWT with a flipped signature byte", f"{head}.{body}.{_b64(bytes(flipped))}"),
           ("the JWT re-made with alg: none", _encode({**header, "alg": "none"}, claims, None))]
    if secret is not None and header.get("alg") in _HASHES:
        now = int(time.time())
        expired = {**claims, "iat": now - 7200, "exp": now - 3600}
        expired.pop("nbf", None)
        out.append(("a validly signed copy with exp in the past", _encode(header, expired, secret.encode())))
    return out


def _forged_token() -> list[tuple[str, str]]:
    now = int(time.time())
    claims = {"sub": "1", "iat": now, "exp": now + 3600}
    return [("a forged JWT with alg: none", _encode({"alg": "none", "typ": "JWT"}, claims, None)),
            ("a forged JWT signed with a random key",
             _encode({"alg": "HS256", "typ": "JWT"}, claims, secrets.token_bytes(32)))]


def _tamper(value: str) -> str:
    last = value[-1:] or "x"
    return value[:-1] + ("y" if last != "y" else "z")


def _given_variants(ctx: Context) -> tuple[list[tuple[str, dict[str, str]]], list[str]]:
    """Bad copies of the --auth credentials, and what could not be tried."""
    out: list[tuple[str, dict[str, str]]] = []
    skipped: list[str] = []
    for name, value in ctx.target.auth.items():
        scheme, _, rest = value.partition(" ")
        prefix, token = (scheme + " ", rest) if rest and is_jwt(rest) else ("", value)
        split = _split(token)
        if split is not None:
            out += [(what, {name: prefix + bad}) for what, bad in jwt_variants(token, ctx.jwt_secret)]
            alg = str(split[0].get("alg"))
            if alg not in _HASHES:
                skipped.append(f"no expired-token variant of the {name} JWT: it is signed with {alg}, and stackrig "
                               f"signs only HS256/384/512; tried a flipped signature byte and alg: none")
            elif ctx.jwt_secret is None:
                skipped.append(f"no expired-token variant of the {name} JWT: signing one needs the server's key "
                               f"(pass jwt_secret, or --jwt-secret); tried a flipped signature byte and alg: none")
        else:
            out.append((f"a tampered {name}", {name: _tamper(value)}))
    return out, skipped


def _forged_variants(ctx: Context, op: Operation) -> list[tuple[str, dict[str, str]]]:
    out: list[tuple[str, dict[str, str]]] = []
    for requirement in op.security:
        for scheme_name in requirement:
            scheme = ctx.schema.security_schemes.get(scheme_name) or {}
            kind, where = str(scheme.get("type", "")).lower(), str(scheme.get("in", "")).lower()
            if kind == "apikey" and where == "header" and scheme.get("name"):
                out.append(("a made-up API key", {str(scheme["name"]): "stackrig-forged-key"}))
            elif kind == "apikey" and where == "cookie" and scheme.get("name"):
                out.append(("a made-up session cookie", {"Cookie": f"{scheme['name']}=stackrig-forged"}))
            elif kind == "http" and str(scheme.get("scheme", "")).lower() == "basic" or kind == "basic":
                out.append(("made-up basic credentials",
                            {"Authorization": "Basic " + base64.b64encode(b"stackrig:stackrig").decode()}))
            elif kind in ("http", "oauth2", "openidconnect"):
                out += [(what, {"Authorization": f"Bearer {token}"}) for what, token in _forged_token()]
    unique: dict[str, tuple[str, dict[str, str]]] = {}
    for what, headers in out:
        unique.setdefault(what, (what, headers))
    return list(unique.values())


def _credential(ctx: Context, op: Operation) -> str:
    """The name of what carries the credentials: the --auth headers, else the operation's schemes'."""
    if ctx.target.auth:
        return ", ".join(ctx.target.auth)
    names = []
    for requirement in op.security:
        for scheme_name in requirement:
            scheme = ctx.schema.security_schemes.get(scheme_name) or {}
            names.append(str(scheme["name"]) if str(scheme.get("type", "")).lower() == "apikey" and scheme.get("name")
                         else "Authorization")
    return ", ".join(dict.fromkeys(names)) or "Authorization"


def check_missing_auth(ctx: Context) -> None:
    secured = [op for op in ctx.schema.operations if op.secured]
    if not secured:
        return
    given, skipped = _given_variants(ctx) if ctx.target.auth else ([], [])
    for text in skipped:
        ctx.note(f"missing-auth: {text}")
    if not ctx.target.auth:
        ctx.note("missing-auth: no --auth given: secured operations were tried without credentials and with forged "
                 "ones; pass --auth with a valid token to also try tampered and expired copies of it")
    for op in secured:
        values, _ = ctx.baseline(op)
        bare = ctx.send(op, values, auth=False)
        if bare is None or bare.status == 0:
            continue
        if bare.ok:
            ctx.found("missing-auth", op, f"a secured operation answers {bare.status} without credentials",
                      f"{bare.status} without credentials: {bare.text[:160]!r}", bare,
                      parameter=_credential(ctx, op), location="header")
            continue
        if bare.status not in (401, 403):
            continue
        for what, headers in given or _forged_variants(ctx, op):
            sent = ctx.send(op, values, auth=False, headers=headers)
            if sent is not None and sent.ok:
                name = next(iter(headers))
                ctx.found("missing-auth", op, f"a secured operation accepts {what}",
                          f"{sent.status} with {what} (without credentials: {bare.status}): {sent.text[:120]!r}",
                          sent, parameter=name, location="header", payload=f"{name}: {headers[name]}")
                break
