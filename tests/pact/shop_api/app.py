"""A stand-in for the example shop's API (its products and auth routes, the same schema and error
convention), so the Node consumer's pact is verified against a provider that does not change under
the tests while examples/shop is being rewritten.  ``uvicorn app:app``; DATABASE_URL, JWT_SECRET."""

from __future__ import annotations

import os
import time
from typing import Any

import bcrypt
import jwt
import psycopg
from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse
from psycopg.rows import dict_row
from pydantic import BaseModel

app = FastAPI(title="shop-api stand-in")
SECRET = os.environ.get("JWT_SECRET", "stand-in-secret-0123456789-0123456789")
_PRODUCT = "id, name, description, price_cents, version"


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        self.status, self.message = status, message


@app.exception_handler(ApiError)
async def _error(_: Request, exc: ApiError) -> JSONResponse:
    return JSONResponse({"error": exc.message}, status_code=exc.status)


def _db() -> psycopg.Connection[dict[str, Any]]:
    return psycopg.connect(os.environ["DATABASE_URL"], autocommit=True, row_factory=dict_row)


class Login(BaseModel):
    email: str
    password: str


@app.get("/health")
def health() -> dict[str, bool]:
    return {"ok": True}


@app.get("/products")
def products() -> list[dict[str, Any]]:
    with _db() as conn:
        return conn.execute(f"SELECT {_PRODUCT} FROM products ORDER BY id").fetchall()


@app.get("/products/{product_id}")
def product(product_id: int) -> dict[str, Any]:
    with _db() as conn:
        row = conn.execute(f"SELECT {_PRODUCT} FROM products WHERE id = %s", (product_id,)).fetchone()
    if row is None:
        raise ApiError(404, f"product {product_id} not found")
    return row


@app.post("/auth/login")
def login(body: Login) -> dict[str, str]:
    with _db() as conn:
        row = conn.execute("SELECT id, password_hash FROM users WHERE email = %s", (body.email.lower(),)).fetchone()
    if row is None or not bcrypt.checkpw(body.password.encode(), row["password_hash"].encode()):
        raise ApiError(401, "invalid e-mail or password")
    now = int(time.time())
    token = jwt.encode({"sub": str(row["id"]), "iat": now, "exp": now + 3600}, SECRET, algorithm="HS256")
    return {"access_token": token, "token_type": "bearer"}


@app.get("/auth/me")
def me(authorization: str = Header(default="")) -> dict[str, Any]:
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "authentication required")
    try:
        user_id = int(jwt.decode(token, SECRET, algorithms=["HS256"])["sub"])
    except jwt.PyJWTError as exc:
        raise ApiError(401, f"invalid token: {exc}") from exc
    with _db() as conn:
        row = conn.execute("SELECT id, email, name, created_at FROM users WHERE id = %s", (user_id,)).fetchone()
    if row is None:
        raise ApiError(401, "the access token's user no longer exists")
    return {**row, "created_at": row["created_at"].isoformat().replace("+00:00", "Z")}
