"""The shop's web page: its static files from this folder, and ``/config.js`` naming the API.

    PORT=8080 SHOP_URL=http://127.0.0.1:8000 python web/serve.py

The page calls the API from its own origin (so the API's CORS_ORIGINS must name this one) and
opens the API's WebSocket for live order statuses.  Standard library only.
"""

from __future__ import annotations

import json
import os
import sys
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
PAGE = {"/", "/index.html", "/app.js", "/style.css"}  # what the page is made of


class Handler(SimpleHTTPRequestHandler):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, directory=str(HERE), **kwargs)  # type: ignore[arg-type]

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path.split("?")[0] == "/config.js":
            body = f"window.SHOP_CONFIG = {json.dumps({'api': os.environ['SHOP_URL'].rstrip('/')})};\n".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/javascript; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)
            return
        if self.path.split("?")[0] not in PAGE:  # never the client's sources, tests or node_modules
            self.send_error(404)
            return
        super().do_GET()

    def end_headers(self) -> None:
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()


def main() -> int:
    if not os.environ.get("SHOP_URL"):
        print("web: SHOP_URL (the API's URL) is required", file=sys.stderr)
        return 2
    server = ThreadingHTTPServer((os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "8080"))), Handler)
    host, port = server.server_address[:2]
    print(f"web: serving {HERE} on http://{host!s}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
