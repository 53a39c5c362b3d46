"""A tiny HTTP app for the load tests (kind = "process"): /health, /items (200, JSON), /broken (500)."""

import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path == "/broken":
            status, body = 500, b'{"error": "broken on purpose"}'
        else:
            status, body = 200, json.dumps({"items": [1, 2, 3], "path": self.path}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt: str, *args: object) -> None:
        pass


ThreadingHTTPServer.daemon_threads = True
print("serving", flush=True)
ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
