"""A small provider for the pact tests: users in PostgreSQL, orders announced on Redis pub/sub.

GET /users/{id}, GET /users, POST /orders (inserts the order and publishes ``orders:created``),
GET /health.  Standard library HTTP server, psycopg, redis-py; DATABASE_URL, REDIS_URL, PORT.
"""

from __future__ import annotations

import json
import os
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg
import redis
from psycopg.rows import dict_row

DATABASE_URL = os.environ["DATABASE_URL"]
REDIS = redis.Redis.from_url(os.environ["REDIS_URL"]) if os.environ.get("REDIS_URL") else None
_USER = re.compile(r"^/users/(\d+)$")


def _conn() -> psycopg.Connection:
    return psycopg.connect(DATABASE_URL, autocommit=True, row_factory=dict_row)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, status: int, payload: object | None) -> None:
        body = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        if payload is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        path = self.path.split("?", 1)[0]
        if path == "/health":
            return self._send(200, {"ok": True})
        found = _USER.match(path)
        with _conn() as conn:
            if found:
                row = conn.execute("SELECT id, name, email FROM users WHERE id = %s", (int(found.group(1)),)).fetchone()
                return self._send(200, row) if row else self._send(404, {"error": "no such user"})
            if path == "/users":
                return self._send(200, conn.execute("SELECT id, name, email FROM users ORDER BY id").fetchall())
        self._send(404, {"error": f"no route {path}"})

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        data = json.loads(self.rfile.read(length) or b"{}")
        if self.path == "/orders":
            with _conn() as conn:
                row = conn.execute("INSERT INTO orders (user_id, total_cents) VALUES (%s, %s) RETURNING id, user_id, "
                                   "total_cents", (data["user_id"], data["total_cents"])).fetchone()
            if REDIS is not None:
                REDIS.publish("orders:created", json.dumps({**row, "status": "created"}))
            return self._send(201, row)
        self._send(404, {"error": f"no route {self.path}"})


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("PORT") or sys.argv[1])), Handler).serve_forever()
