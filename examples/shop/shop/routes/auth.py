"""Registration, login and the current user."""

from __future__ import annotations

import psycopg.errors
from fastapi import APIRouter, BackgroundTasks, Request

from shop.auth import CurrentUser, hash_password, issue_token, verify_password
from shop.errors import ApiError
from shop.schemas import Login, Register, Token, User
from shop.state import DbConn, State

__all__ = ["router"]

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/register", status_code=201)
async def register(body: Register, state: State, conn: DbConn, background: BackgroundTasks) -> User:
    email = body.email.lower()
    password_hash = await hash_password(body.password, state.settings.bcrypt_rounds)
    try:
        cur = await conn.execute(
            "INSERT INTO users (email, name, password_hash) VALUES (%s, %s, %s)"
            " RETURNING id, email, name, created_at",
            (email, body.name, password_hash),
        )
    except psycopg.errors.UniqueViolation as exc:
        raise ApiError(
            409, f"a user with e-mail {email} already exists; log in or use another e-mail"
        ) from exc
    row = await cur.fetchone()
    assert row is not None
    if state.mailer.enabled:
        background.add_task(state.mailer.send_welcome, email, body.name)
    return User.model_validate(row)


@router.post(
    "/login",
    responses={401: {"description": "wrong e-mail or password"},
               429: {"description": "too many failed logins (see `Retry-After`)"}},
)
async def login(body: Login, state: State, conn: DbConn, request: Request) -> Token:
    email = body.email.strip().lower()
    client = request.client.host if request.client else "unknown"
    await state.limiter.check(email, client)  # 429 with Retry-After once the failures add up
    cur = await conn.execute("SELECT id, password_hash FROM users WHERE email = %s", (email,))
    row = await cur.fetchone()
    if not await verify_password(body.password, row["password_hash"] if row else None) or row is None:
        await state.limiter.failed(email, client)
        raise ApiError(401, "invalid e-mail or password", headers={"WWW-Authenticate": "Bearer"})
    await state.limiter.succeeded(email)
    return Token(access_token=issue_token(row["id"], state.settings.jwt_secret, state.settings.jwt_ttl_s))


@router.get("/me")
async def me(user: CurrentUser) -> User:
    return User.model_validate(user)
