"""The fixed twin of `vulnerable.py`: the same operations with every flaw repaired, so that a scan
of it finds nothing (the scanner's false-positive test).

| vulnerable.py | here |
|---|---|
| string-built SQL | bound parameters (SQLite and PostgreSQL), inputs validated |
| HTML with the name pasted in | the name HTML-escaped |
| a file name joined as it comes | resolved, and refused unless inside the folder |
| any Origin echoed with credentials | an allow-list of one origin (Starlette's CORSMiddleware) |
| tokens ignored / not verified | HS256 verified, `exp` required |
| unlimited logins | 5 failures per client per minute, then 429 with Retry-After |
| int() on a raw query value, raw JSON | validated parameters and bodies (422) |
"""

from __future__ import annotations

import html
import math
import os
import sqlite3
import tempfile
import threading
import time
from typing import Annotated, Any

import jwt
from fastapi import Cookie, Depends, FastAPI, Header, Path, Query, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

SECRET = os.environ.get("JWT_SECRET", "fixed-secret-0123456789abcdef0123")
DATA = os.environ.get("APP_DATA") or tempfile.mkdtemp(prefix="fixed-app-")
FILES = os.path.realpath(os.path.join(DATA, "files"))
DB = os.path.join(DATA, "app.sqlite")
USERS = {"alice": "wonderland-secret"}
MAX_FAILURES, WINDOW_S = 5, 60.0

os.makedirs(FILES, exist_ok=True)
with open(os.path.join(FILES, "readme.txt"), "w") as f:
    f.write("public file\n")
with sqlite3.connect(DB) as setup:
    setup.executescript("""
        DROP TABLE IF EXISTS items; CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, owner TEXT);
        INSERT INTO items (name, owner) VALUES ('apple', 'alice'), ('pear', 'bob');
        DROP TABLE IF EXISTS prefs; CREATE TABLE prefs (theme TEXT, font TEXT);
        INSERT INTO prefs VALUES ('dark', 'serif');
    """)

app = FastAPI(title="fixed", version="1")
app.add_middleware(CORSMiddleware, allow_origins=["https://app.example.com"], allow_credentials=True,
                   allow_methods=["GET", "POST"], allow_headers=["Authorization", "Content-Type"])
bearer = HTTPBearer(auto_error=False)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
Text = Annotated[str, Field(max_length=200)]


def clean(value: str) -> str:
    """Text that both databases take: no NUL, no lone surrogate (else 422, not a 500)."""
    if "\x00" in value or any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise ValueError("unsupported characters")
    return value


@app.exception_handler(ValueError)
async def bad_value(request: Request, exc: ValueError) -> JSONResponse:
    return JSONResponse({"detail": f"invalid input: {exc}"}, status_code=422)


def query(sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(DB) as conn:
        return conn.execute(sql, tuple(clean(a) if isinstance(a, str) else a for a in args)).fetchall()


@app.get("/health")
def health() -> dict[str, bool]:
    return {"ok": True}


@app.get("/items")
def find_items(name: Annotated[str, Query(max_length=200)] = "apple") -> Any:
    return [{"id": r[0], "name": r[1]} for r in query("SELECT id, name FROM items WHERE name = ?", name)]


@app.get("/items/{item_id}")
def get_item(item_id: Annotated[int, Path(ge=1, le=2**31)]) -> Any:
    rows = query("SELECT id, name FROM items WHERE id = ?", item_id)
    if not rows:
        return JSONResponse({"detail": "no such item"}, status_code=404)
    return {"id": rows[0][0], "name": rows[0][1]}


@app.get("/orders")
def list_orders(x_customer: Annotated[str, Header(max_length=200)] = "alice") -> Any:
    return [{"id": r[0], "item": r[1]} for r in query("SELECT id, name FROM items WHERE owner = ?", x_customer)]


@app.get("/prefs")
def get_prefs(theme: Annotated[str, Cookie(max_length=200)] = "dark") -> Any:
    rows = query("SELECT font FROM prefs WHERE theme = ?", theme)
    return {"font": rows[0][0] if rows else None}


class ReportQuery(BaseModel):
    customer: Text
    year: int = Field(2024, ge=1, le=9999)


@app.post("/reports")
def reports(body: ReportQuery) -> Any:
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        rows = conn.execute("SELECT %s::text AS customer, %s::int AS year",
                            (clean(body.customer), body.year)).fetchall()
    return [{"customer": r[0], "year": r[1]} for r in rows]


@app.get("/greet", response_class=HTMLResponse)
def greet(name: str = "world") -> str:
    return f"<html><body><h1>Hello, {html.escape(name)}!</h1></body></html>"


@app.get("/files")
def download(filename: str = "readme.txt") -> Any:
    clean(filename)
    path = os.path.realpath(os.path.join(FILES, filename))
    if os.path.dirname(path) != FILES or not os.path.isfile(path):
        return JSONResponse({"detail": "no such file"}, status_code=404)
    with open(path, encoding="utf-8", errors="replace") as fh:
        return PlainTextResponse(fh.read())


class Login(BaseModel):
    username: Text
    password: Text


_failures: dict[str, list[float]] = {}
_failures_lock = threading.Lock()


@app.post("/login")
def login(body: Login, request: Request) -> Any:
    client = request.client.host if request.client else "?"
    now = time.monotonic()
    with _failures_lock:
        recent = [t for t in _failures.get(client, []) if now - t < WINDOW_S]
        _failures[client] = recent
        if len(recent) >= MAX_FAILURES:
            wait = math.ceil(WINDOW_S - (now - recent[0]))
            return JSONResponse({"detail": "too many failed logins"}, status_code=429,
                                headers={"Retry-After": str(wait)})
        if USERS.get(body.username) != body.password:
            recent.append(now)
            return JSONResponse({"detail": "invalid username or password"}, status_code=401)
    issued = int(time.time())
    return {"access_token": jwt.encode({"sub": body.username, "iat": issued, "exp": issued + 3600}, SECRET,
                                       algorithm="HS256"), "token_type": "bearer"}


def user(credentials: HTTPAuthorizationCredentials | None) -> str | None:
    if credentials is None:
        return None
    try:
        claims = jwt.decode(credentials.credentials, SECRET, algorithms=["HS256"], options={"require": ["exp", "sub"]})
    except jwt.PyJWTError:
        return None
    return str(claims["sub"])


def unauthorized() -> JSONResponse:
    return JSONResponse({"detail": "not authenticated"}, status_code=401, headers={"WWW-Authenticate": "Bearer"})


@app.get("/admin/users")
def admin_users(credentials: Credentials) -> Any:
    if user(credentials) is None:
        return unauthorized()
    return [{"username": name} for name in USERS]


@app.get("/account")
def account(credentials: Credentials) -> Any:
    name = user(credentials)
    return unauthorized() if name is None else {"username": name}


@app.get("/stats")
def stats(limit: Annotated[int, Query(ge=1, le=1000)] = 10) -> Any:
    return {"limit": limit, "items": 2}


class CartLine(BaseModel):
    item_id: int = Field(ge=1, le=2**31)
    qty: int = Field(ge=1, le=1000)


@app.post("/cart")
def add_to_cart(body: CartLine) -> Any:
    return {"item_id": body.item_id, "total": body.qty * 2.5}
