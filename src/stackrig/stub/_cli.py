"""Command line of the stub server process."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from stackrig.errors import StackrigError

from ._journal import DEFAULT_JOURNAL_LIMIT, DEFAULT_RECORDING_LIMIT

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m stackrig.stub",
        description="WireMock-compatible HTTP stub server "
        "(mappings/ and __files/ under --root, admin API at /__admin).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, required=True, help="port to listen on")
    parser.add_argument("--root", type=Path, default=None, help="folder holding mappings/ and __files/ (both optional)")
    parser.add_argument(
        "--journal-limit",
        type=int,
        default=DEFAULT_JOURNAL_LIMIT,
        help="how many requests the journal keeps, oldest dropped first "
        f"(default {DEFAULT_JOURNAL_LIMIT}; 0 disables it)",
    )
    parser.add_argument(
        "--recording-limit",
        type=int,
        default=DEFAULT_RECORDING_LIMIT,
        help="how many proxied exchanges one recording keeps, oldest dropped first "
        f"(default {DEFAULT_RECORDING_LIMIT}; bodies are also capped at 256 MiB)",
    )
    parser.add_argument(
        "--record-upstream",
        default=None,
        metavar="URL",
        help="proxy every request to URL and, on exit, write mapping files for what it answered into "
        "<root>/mappings (repeats of a request with different answers become a scenario)",
    )
    return parser


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.journal_limit < 0:
        print(f"--journal-limit must be 0 or more, found {args.journal_limit}", file=sys.stderr)
        return 2
    if args.recording_limit < 1:
        print(f"--recording-limit must be 1 or more, found {args.recording_limit}", file=sys.stderr)
        return 2
    if args.record_upstream is not None:
        if not args.record_upstream.startswith(("http://", "https://")):
            print(f"--record-upstream must be an http:// URL, found {args.record_upstream!r}", file=sys.stderr)
            return 2
        if args.root is None:
            print(
                "--record-upstream needs --root DIR: the recorded mappings are written to DIR/mappings", file=sys.stderr
            )
            return 2
    from ._app import StubApp
    from ._server import serve_forever

    try:
        app = StubApp(args.root, args.journal_limit, args.recording_limit)
    except StackrigError as exc:
        print(f"stackrig stub: cannot start: {exc}", file=sys.stderr)
        return 1
    if args.record_upstream is not None:
        app.recorder.start(args.record_upstream)
    loop = _new_loop()
    try:
        loop.run_until_complete(serve_forever(app, args.host, args.port))
    except OSError as exc:
        print(f"stackrig stub: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    finally:
        loop.close()
    return 0
