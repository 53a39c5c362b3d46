"""A small inventory service on the standard library's HTTP server."""

import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import redis

from .db import connect

cache = redis.Redis(host=os.environ["REDIS_HOST"], port=int(os.environ.get("REDIS_PORT", "6379")))


class Handler(BaseHTTPRequestHandler):
    def _send(self, code: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path == "/healthz":
            cache.ping()
            return self._send(200, {"ok": True})
        if self.path == "/items":
            with connect() as conn:
                rows = conn.execute("SELECT sku, stock FROM items ORDER BY sku").fetchall()
            return self._send(200, {"items": dict(rows), "views": cache.incr("views")})
        self._send(404, {"error": "not found"})

    def do_POST(self) -> None:
        if self.path == "/items":
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with connect() as conn:
                conn.execute("INSERT INTO items VALUES (%s, %s) ON CONFLICT (sku) DO UPDATE SET stock = EXCLUDED.stock",
                             (body["sku"], body["stock"]))
            return self._send(201, body)
        self._send(404, {"error": "not found"})

    def log_message(self, format: str, *args: object) -> None:
        print(format % args, flush=True)


if __name__ == "__main__":
    port = int(os.environ.get("HTTP_PORT", "8080"))
    ThreadingHTTPServer(("0.0.0.0", port), Handler).serve_forever()
