"""tinykv: a tiny key-value server speaking a line protocol over TCP (stdlib only).

It knows nothing of stackrig: it is the kind of third-party server a stackrig kind runs
(``stackrig_tinykv`` is that kind).  One command per line, one reply per line, UTF-8::

    PING                 -> PONG
    SET ns key value...  -> OK              (the value is the rest of the line)
    GET ns key           -> VALUE value | NONE
    KEYS ns              -> KEYS key...     (sorted)
    FLUSH ns             -> OK n            (n keys removed)
    anything else        -> ERR message

A namespace (``ns``) is a key space of its own: stackrig gives each pytest-xdist worker one.
Run it as ``tinykv-server --port 7777 --bind 127.0.0.1 [--max-keys N]``; data lives in memory only.
"""

from __future__ import annotations

import argparse
import socketserver
import threading

__version__ = "0.1.0"


class Store:
    """The namespaces, each a dict holding at most `max_keys` keys."""

    def __init__(self, max_keys: int) -> None:
        self.max_keys = max_keys
        self.spaces: dict[str, dict[str, str]] = {}
        self.lock = threading.Lock()

    def execute(self, line: str) -> str:
        command, *args = line.split(" ", 3)
        command = command.upper()
        with self.lock:
            if command == "PING" and not args:
                return "PONG"
            if command == "SET" and len(args) == 3:
                ns, key, value = args
                space = self.spaces.setdefault(ns, {})
                if key not in space and len(space) >= self.max_keys:
                    return f"ERR namespace {ns!r} is full ({self.max_keys} keys)"
                space[key] = value
                return "OK"
            if command == "GET" and len(args) == 2:
                found = self.spaces.get(args[0], {}).get(args[1])
                return "NONE" if found is None else f"VALUE {found}"
            if command == "KEYS" and len(args) == 1:
                return " ".join(["KEYS", *sorted(self.spaces.get(args[0], {}))])
            if command == "FLUSH" and len(args) == 1:
                return f"OK {len(self.spaces.pop(args[0], {}))}"
        return f"ERR unknown command or wrong number of arguments: {line[:60]!r}"


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True  # a client still connected never holds up the exit

    def __init__(self, address: tuple[str, int], store: Store) -> None:
        super().__init__(address, Handler)
        self.store = store


class Handler(socketserver.StreamRequestHandler):
    server: Server

    def handle(self) -> None:
        for raw in self.rfile:  # one command per line, until the client hangs up
            reply = self.server.store.execute(raw.decode("utf-8", "replace").rstrip("\r\n"))
            self.wfile.write(reply.encode() + b"\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="tinykv-server", description="a tiny line-protocol key-value server")
    parser.add_argument("--port", type=int, default=7777)
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--max-keys", type=int, default=10_000, help="keys per namespace")
    parser.add_argument("--version", action="version", version=f"tinykv {__version__}")
    args = parser.parse_args(argv)
    with Server((args.bind, args.port), Store(args.max_keys)) as server:
        print(f"tinykv {__version__} listening on {args.bind}:{args.port}", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
