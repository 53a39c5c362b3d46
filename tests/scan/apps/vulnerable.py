"""A deliberately vulnerable API: one flaw of every kind `stackrig scan` looks for.

NEVER deploy this. It exists so the scanner's tests can prove that each check finds its class of
flaw over real HTTP; `fixed.py` beside it is the same API with every flaw repaired.

    uvicorn vulnerable:app --port 8000      (DATABASE_URL: a PostgreSQL database for /reports)

| flaw | operation | parameter |
|---|---|---|
| SQL injection, error-based (SQLite error in the body) | GET /items | query `name` |
| SQL injection, error-based, numeric context | GET /items/{item_id} | path `item_id` |
| SQL injection, 5xx only (generic error page) | GET /orders | header `X-Customer` |
| SQL injection, error-based | GET /prefs | cookie `theme` |
| SQL injection, blind (time-based, PostgreSQL) | POST /reports | body `customer` |
| reflected XSS | GET /greet | query `name` |
| path traversal | GET /files | query `filename` |
| CORS: any origin echoed, with credentials (preflight too) | every operation | `Origin` |
| secured operation ignoring its token | GET /admin/users | `Authorization` |
| secured operation not verifying the token's signature | GET /account | `Authorization` |
| login without a rate limit | POST /login | — |
| 5xx on a wrong type (query) | GET /stats | query `limit` |
| 5xx on malformed JSON / a wrong type (body) | POST /cart | body / `qty` |
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
from typing import Annotated, Any

import jwt
from fastapi import Cookie, Depends, FastAPI, Header, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

SECRET = os.environ.get("JWT_SECRET", "vulnerable-secret-0123456789abcdef")
DATA = os.environ.get("APP_DATA") or tempfile.mkdtemp(prefix="vulnerable-app-")
FILES = os.path.join(DATA, "files")
DB = os.path.join(DATA, "app.sqlite")
USERS = {"alice": "wonderland-secret"}

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

app = FastAPI(title="vulnerable", version="1")
bearer = HTTPBearer(auto_error=False)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


@app.middleware("http")
async def echo_any_origin(request: Request, call_next: Any) -> Response:
    """FLAW (cors): every Origin is allowed, with credentials; preflights are answered for anyone."""
    origin = request.headers.get("origin")
    if request.method == "OPTIONS" and origin and "access-control-request-method" in request.headers:
        response: Response = Response(status_code=204)
    else:
        response = await call_next(request)
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, PUT, DELETE"
        response.headers["Access-Control-Allow-Headers"] = request.headers.get("access-control-request-headers", "*")
    return response


def query(sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(DB) as conn:
        return conn.execute(sql).fetchall()


def db_error(exc: Exception) -> JSONResponse:
    """A debug-style error page that leaks the driver's message."""
    return JSONResponse({"detail": f"{type(exc).__module__}.{type(exc).__name__}: {exc}"}, status_code=500)


@app.get("/health")
def health() -> dict[str, bool]:
    return {"ok": True}


@app.get("/items")
def find_items(name: str = "apple") -> Any:
    try:  # FLAW (sql-injection): the value is pasted into the SQL text
        rows = query(f"SELECT id, name FROM items WHERE name = '{name}'")
    except sqlite3.Error as exc:
        return db_error(exc)
    return [{"id": r[0], "name": r[1]} for r in rows]


@app.get("/items/{item_id}")
def get_item(item_id: str) -> Any:
    try:  # FLAW (sql-injection): numeric context, no quotes at all
        rows = query(f"SELECT id, name FROM items WHERE id = {item_id}")
    except sqlite3.Error as exc:
        return db_error(exc)
    if not rows:
        return JSONResponse({"detail": "no such item"}, status_code=404)
    return {"id": rows[0][0], "name": rows[0][1]}


@app.get("/orders")
def list_orders(x_customer: Annotated[str, Header()] = "alice") -> Any:
    try:  # FLAW (sql-injection): from a header; the error is hidden behind a generic 500
        rows = query(f"SELECT id, name FROM items WHERE owner = '{x_customer}'")
    except sqlite3.Error:
        return PlainTextResponse("Internal Server Error", status_code=500)
    return [{"id": r[0], "item": r[1]} for r in rows]


@app.get("/prefs")
def get_prefs(theme: Annotated[str, Cookie()] = "dark") -> Any:
    try:  # FLAW (sql-injection): from a cookie
        rows = query(f"SELECT font FROM prefs WHERE theme = '{theme}'")
    except sqlite3.Error as exc:
        return db_error(exc)
    return {"font": rows[0][0] if rows else None}


class ReportQuery(BaseModel):
    customer: str
    year: int = 2024


@app.post("/reports")
def reports(body: ReportQuery) -> Any:
    """FLAW (sql-injection, blind): string-built SQL on PostgreSQL; every error is swallowed, so
    only the time a query takes gives it away."""
    import psycopg

    try:
        with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
            rows = conn.execute(f"SELECT '{body.customer}' AS customer, {int(body.year) % 10000} AS year").fetchall()
    except Exception:  # noqa: BLE001 - deliberately blind
        return []
    return [{"customer": r[0], "year": r[1]} for r in rows]


@app.get("/greet", response_class=HTMLResponse)
def greet(name: str = "world") -> str:
    return f"<html><body><h1>Hello, {name}!</h1></body></html>"  # FLAW (xss): echoed unescaped


@app.get("/files")
def download(filename: str = "readme.txt") -> Any:
    try:  # FLAW (path-traversal): the name is joined to the folder as it comes
        with open(os.path.join(FILES, filename), encoding="utf-8", errors="replace") as fh:
            return PlainTextResponse(fh.read())
    except OSError:
        return JSONResponse({"detail": "no such file"}, status_code=404)


class Login(BaseModel):
    username: str
    password: str


@app.post("/login")
def login(body: Login) -> Any:
    """FLAW (rate-limit): any number of wrong passwords, as fast as one can send them."""
    if USERS.get(body.username) != body.password:
        return JSONResponse({"detail": "invalid username or password"}, status_code=401)
    now = int(time.time())
    return {"access_token": jwt.encode({"sub": body.username, "iat": now, "exp": now + 3600}, SECRET,
                                       algorithm="HS256"), "token_type": "bearer"}


@app.get("/admin/users")
def admin_users(credentials: Credentials) -> Any:
    """FLAW (missing-auth): declared as secured (bearer), but the token is never looked at."""
    return [{"username": name} for name in USERS]


@app.get("/account")
def account(credentials: Credentials) -> Any:
    """FLAW (missing-auth): a token is required, but its signature (and expiry) are never verified."""
    if credentials is None:
        return JSONResponse({"detail": "not authenticated"}, status_code=401)
    try:
        claims = jwt.decode(credentials.credentials, options={"verify_signature": False})
    except jwt.PyJWTError:
        return JSONResponse({"detail": "bad token"}, status_code=401)
    return {"username": claims.get("sub")}


@app.get("/stats", openapi_extra={"parameters": [
    {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1}}]})
def stats(request: Request) -> Any:
    limit = int(request.query_params.get("limit", "10"))  # FLAW (server-error): ValueError -> 500
    return {"limit": limit, "items": 2}


@app.post("/cart", openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["item_id", "qty"],
    "properties": {"item_id": {"type": "integer"}, "qty": {"type": "integer"}}}}}}})
async def add_to_cart(request: Request) -> Any:
    body = await request.json()  # FLAW (server-error): malformed JSON -> 500
    return {"item_id": body["item_id"], "total": body["qty"] * 2.5}  # a string qty -> 500 (or nonsense)
