"""moto's server (what `moto_server -H HOST -p PORT` runs), plus three things stackrig needs.

Run by the interpreter of the `moto_server` that the providers found, as a file (this script
imports nothing of stackrig, so it works in any environment that has moto):

    python _moto_main.py --host 127.0.0.1 --port 4566

1. **Ready only once provisioned.**  ``GET /_stackrig/ready`` answers 503 until the baseline
   (the snapshot of the stack file's resources, which the readiness probe creates) is posted to
   ``POST /_stackrig/baseline``, 200 after: so a start *and a restart* come up provisioned.
2. **A change counter** per area (``s3``, ``sqs``, ``sns``): every request that can change state
   counts (S3 writes; SQS/SNS actions other than List*/Get*/Describe*; a ReceiveMessage only when
   it returned messages).  Requests with the ``X-Stackrig-Internal`` header (provisioning, the
   per-test reset) do not.  ``GET /_stackrig/state`` returns the counters: the per-test reset's
   whole cost when a test changed nothing.
3. ``GET /_stackrig/baseline``: that snapshot, for the per-test reset.

Everything else is moto's own WSGI application, unchanged.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

AREAS = ("s3", "sqs", "sns")
INTERNAL_HEADER = "X-Stackrig-Internal"
_INTERNAL_ENV = "HTTP_X_STACKRIG_INTERNAL"
_PURGE_ENV = "HTTP_X_STACKRIG_PURGE"  # rig.queue(...).purge(): counted, but never refused
_local = threading.local()  # per request thread: may PurgeQueue skip moto's once-a-minute rule?
_SCOPE = re.compile(r"Credential=[^/,]*/[^/,]*/[^/,]*/([^/,]*)/")
_READS = ("List", "Get", "Describe", "Head", "CheckIfPhoneNumberIsOptedOut")

StartResponse = Callable[..., Any]
STARTED = time.monotonic()


def _service_of(environ: dict[str, Any], action: str | None, version: str | None) -> str | None:
    m = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    if m:
        return m.group(1)
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target.startswith("AmazonSQS"):
        return "sqs"
    if version == "2010-03-31":
        return "sns"
    if version == "2012-11-05":
        return "sqs"
    return None if action else "s3"


class Counter:
    """WSGI middleware: stackrig's endpoints and the change counters, around moto's application."""

    def __init__(self, app: Callable[[dict[str, Any], StartResponse], Iterable[bytes]]) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.changes = dict.fromkeys(AREAS, 0)
        self.ready = False
        self.baseline: dict[str, Any] = {}
        self.boot = os.urandom(8).hex()  # a restarted server counts from 0 again: the reset must know

    def bump(self, areas: Iterable[str]) -> None:
        with self.lock:
            for area in areas:
                self.changes[area] += 1

    def classify(self, environ: dict[str, Any]) -> tuple[tuple[str, ...], str | None]:
        """(areas this request may change, its action)."""
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "")
        if path.startswith("/moto-api/"):
            return (AREAS if method == "POST" else ()), None
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        action: str | None = target.rsplit(".", 1)[-1] if target else None
        version: str | None = None
        if action is None:
            query = parse_qs(environ.get("QUERY_STRING", ""))
            action = query.get("Action", [None])[0]
            version = query.get("Version", [None])[0]
            if action is None and environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
                length = int(environ.get("CONTENT_LENGTH") or 0)
                body = environ["wsgi.input"].read(length) if length else b""
                environ["wsgi.input"] = io.BytesIO(body)
                form = parse_qs(body.decode("utf-8", errors="replace"))
                action = form.get("Action", [None])[0]
                version = form.get("Version", [None])[0]
        service = _service_of(environ, action, version)
        if action is None:  # S3's REST API
            if method in ("GET", "HEAD", "OPTIONS"):
                return (), None
            return (("s3",) if service in (None, "s3") else AREAS), None
        if action.startswith(_READS):
            return (), action
        if service == "sns":
            return (("sqs",) if action in ("Publish", "PublishBatch") else ("sns",)), action
        if service == "sqs" or action == "ReceiveMessage":
            return ("sqs",), action
        if service == "s3":
            return ("s3",), action
        return AREAS, action

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_stackrig/"):
            return self.own(path, environ, start_response)
        _local.lenient = bool(environ.get(_INTERNAL_ENV) or environ.get(_PURGE_ENV))
        if environ.get(_INTERNAL_ENV):
            return self.app(environ, start_response)
        areas, action = self.classify(environ)
        if not areas:
            return self.app(environ, start_response)
        if action != "ReceiveMessage":
            self.bump(areas)
            return self.app(environ, start_response)
        result = self.app(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        if b"ReceiptHandle" in body:  # it handed out messages (JSON and XML alike)
            self.bump(areas)
        return [body]

    def own(self, path: str, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if path == "/_stackrig/baseline" and environ.get("REQUEST_METHOD") == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            self.baseline = json.loads(environ["wsgi.input"].read(length) or b"{}")
            base = self.baseline
            objects = sum(len(b["objects"]) for b in base.get("buckets", {}).values())
            print(f"stackrig: ready {(time.monotonic() - STARTED) * 1000:.0f} ms after start: "
                  f"{len(base.get('buckets', {}))} buckets ({objects} objects), {len(base.get('queues', {}))} "
                  f"queues, {len(base.get('topics', {}))} topics", file=sys.stderr, flush=True)
            self.ready = True
            return _reply(start_response, "200 OK", {"ready": True})
        if path == "/_stackrig/ready":
            if not self.ready:
                return _reply(start_response, "503 Service Unavailable", {"ready": False})
            return _reply(start_response, "200 OK", {"ready": True})
        if path == "/_stackrig/state":
            with self.lock:
                state = {"ready": self.ready, "boot": self.boot, "changes": dict(self.changes)}
            return _reply(start_response, "200 OK", state)
        if path == "/_stackrig/baseline":
            return _reply(start_response, "200 OK" if self.ready else "503 Service Unavailable", self.baseline)
        return _reply(start_response, "404 Not Found", {"error": f"no such stackrig endpoint: {path}"})


def lenient_purges() -> None:
    """SQS allows one PurgeQueue per queue a minute, and moto enforces it: the per-test reset (and
    a test's rig.queue(...).purge()) may purge as often as it needs; the application still gets the
    rule.  moto's SQS models read the setting through this name when they are imported."""
    from moto import settings

    strict = settings.sqs_enforce_strict_queue_purge_behaviour

    def enforce() -> bool:
        return False if getattr(_local, "lenient", False) else strict()

    settings.sqs_enforce_strict_queue_purge_behaviour = enforce


def _reply(start_response: StartResponse, status: str, body: Any) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    class Handler(MotoRequestHandler):
        def log_request(self, code: Any = "-", size: Any = "-") -> None:
            if not self.path.startswith("/_stackrig/"):  # the readiness probe polls every few ms
                super().log_request(code, size)

    if "moto.sqs.models" in sys.modules:
        raise RuntimeError("moto's SQS models were imported before stackrig could relax their purge rule")
    lenient_purges()
    app = DomainDispatcherApplication(create_backend_app)
    setattr(app, "debug", True)  # noqa: B010 - as moto_server sets it
    counter = Counter(app)
    server = make_server(args.host, args.port, counter, threaded=True, request_handler=Handler)

    def stop(signum: int, frame: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    import moto

    print(f"stackrig: moto {moto.__version__} serving on http://{args.host}:{args.port} "
          f"({(time.monotonic() - STARTED) * 1000:.0f} ms after start)", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
