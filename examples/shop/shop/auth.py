"""Password hashing (bcrypt), access tokens (JWT, HS256) and the current-user dependency."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any

import bcrypt
import jwt
from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shop.errors import ApiError
from shop.state import DbConn, State

__all__ = [
    "CurrentUser",
    "current_user",
    "hash_password",
    "issue_token",
    "user_for_token",
    "user_id_from_token",
    "verify_password",
]

_ALGORITHM = "HS256"
_bearer = HTTPBearer(auto_error=False)

# A valid hash to compare against when the e-mail is unknown, so a login takes
# as long for a wrong e-mail as for a wrong password.
_DUMMY_HASH = bcrypt.hashpw(b"not-a-password", bcrypt.gensalt(rounds=4))


async def hash_password(password: str, rounds: int) -> str:
    """bcrypt is deliberately slow: run it off the event loop."""
    hashed = await asyncio.to_thread(bcrypt.hashpw, password.encode(), bcrypt.gensalt(rounds=rounds))
    return hashed.decode()


async def verify_password(password: str, password_hash: str | None) -> bool:
    stored = password_hash.encode() if password_hash else _DUMMY_HASH
    secret = password.encode()
    # No stored password is longer than bcrypt's 72 bytes (registration refuses them), and bcrypt
    # 5 raises on longer input: compare the first 72 bytes (same cost) and refuse the rest.
    ok = await asyncio.to_thread(bcrypt.checkpw, secret[:72], stored)
    return ok and password_hash is not None and len(secret) <= 72


def issue_token(user_id: int, secret: str, ttl_s: int) -> str:
    now = int(time.time())
    return jwt.encode({"sub": str(user_id), "iat": now, "exp": now + ttl_s}, secret, algorithm=_ALGORITHM)


def user_id_from_token(token: str, secret: str) -> int:
    """The user id in a valid token, or ApiError 401 saying what is wrong with it."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token, secret, algorithms=[_ALGORITHM], options={"require": ["sub", "exp"]}
        )
        return int(claims["sub"])
    except jwt.ExpiredSignatureError as exc:
        raise _unauthorized("the access token has expired; log in again via POST /auth/login") from exc
    except (jwt.InvalidTokenError, ValueError) as exc:
        raise _unauthorized("the access token is invalid; log in via POST /auth/login for a new one") from exc


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, message, headers={"WWW-Authenticate": "Bearer"})


async def current_user(
    state: State,
    conn: DbConn,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> dict[str, Any]:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorized(
            "authentication required: send `Authorization: Bearer <token>` from POST /auth/login"
        )
    return await user_for_token(conn, credentials.credentials, state.settings.jwt_secret)


async def user_for_token(conn: Any, token: str, secret: str) -> dict[str, Any]:
    """The user a valid token names, or ApiError 401 (also used by the WebSocket routes)."""
    user_id = user_id_from_token(token, secret)
    if not 1 <= user_id < 2**63:
        raise _unauthorized("the access token is invalid; log in via POST /auth/login for a new one")
    cur = await conn.execute("SELECT id, email, name, created_at FROM users WHERE id = %s", (user_id,))
    user = await cur.fetchone()
    if user is None:
        raise _unauthorized("the access token's user no longer exists; register or log in again")
    return dict(user)


CurrentUser = Annotated[dict[str, Any], Depends(current_user)]
