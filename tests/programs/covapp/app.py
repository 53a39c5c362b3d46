"""A service whose coverage the tests measure: /a runs alpha(), /b runs beta()."""

import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def alpha():
    return b"alpha"


def beta():
    value = b"beta"
    return value


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        body = alpha() if self.path == "/a" else beta() if self.path == "/b" else b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
