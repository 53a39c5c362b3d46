"""A small HTTP server on $PORT: /health answers 200 after READY_AFTER seconds, / echoes env."""
import json
import os
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

start = time.monotonic()
ready_after = float(os.environ.get("READY_AFTER", "0"))


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/health":
            ok = time.monotonic() - start >= ready_after
            self.send_response(200 if ok else 503)
            self.end_headers()
            return
        body = json.dumps({k: v for k, v in os.environ.items() if k.isupper()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt: str, *args: object) -> None:
        print("request", self.path, flush=True)


print("serving", flush=True)
HTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
