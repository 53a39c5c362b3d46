"""The stub server's state and request handling, independent of the socket layer.

``StubApp.serve`` turns a parsed request into a :class:`Reply`; static stubs answer with bytes
rendered when the stub was loaded, everything else (templates, delays, faults, proxying) takes
the slow path.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._files import load_mappings, read_body_file
from ._journal import DEFAULT_JOURNAL_LIMIT, DEFAULT_RECORDING_LIMIT, Journal
from ._mapping import StubMapping
from ._nearmiss import closest_stubs, unmatched_report
from ._proxy import Proxy
from ._record import Recorder
from ._request import Request
from ._store import StubStore
from ._template import compile_template, request_model

__all__ = ["Reply", "StubApp"]


@dataclass
class Reply:
    """What to send back: bytes, or a fault, possibly after a delay or dribbled in chunks."""

    data: bytes = b""
    fault: str | None = None
    delay: float = 0.0
    chunks: list[bytes] = field(default_factory=list)
    chunk_interval: float = 0.0


def _simple_reply(status: int, body: bytes, content_type: str, reason: str, head_only: bool = False) -> bytes:
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode("latin-1")
    return head if head_only else head + body


class StubApp:
    """Stubs, journal, scenarios and recorder of one server."""

    def __init__(
        self,
        root: Path | None = None,
        journal_limit: int = DEFAULT_JOURNAL_LIMIT,
        recording_limit: int = DEFAULT_RECORDING_LIMIT,
    ) -> None:
        self.root = root
        self.store = StubStore()
        self.journal = Journal(journal_limit)
        self.host = "127.0.0.1"
        self.port = 0
        self.proxy = Proxy(self)
        self.recorder = Recorder(self, recording_limit)
        self.shutdown_requested = False
        self.global_delay_ms = 0  # WireMock's /__admin/settings fixedDelay, added to every stub
        self.load_files()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def load_files(self) -> None:
        """(Re)load the mappings folder; raises MappingError on the first bad file."""
        if self.root is None:
            return
        for stub in load_mappings(self.root):
            if self.store.get(stub.id) is None:
                self.store.add(stub)

    def reset(self) -> None:
        """WireMock's ``/__admin/reset``: default (file) mappings, empty journal, scenarios at Started."""
        self.store.clear()
        self.store.reset_scenarios()
        self.journal.clear()
        self.load_files()

    # -- serving ------------------------------------------------------------------------------

    def serve(self, req: Request, head_only: bool) -> bytes | Reply | Awaitable[Reply]:
        """Bytes to write at once (static stubs, 404s), a Reply, or an awaitable one (proxying)."""
        stub = self.store.match(req)
        if stub is None:
            self.journal.record(req, None, 404)
            misses = closest_stubs(self.store, req, limit=1, cutoff=float("inf"))
            body = unmatched_report(req, misses, self.store.states()).encode("utf-8")
            return _simple_reply(404, body, "text/plain;charset=UTF-8", "Not Found", head_only)
        if stub.scenario is not None:
            self.store.served(stub)
        response = stub.response
        if response.proxy_base_url is not None:
            return self.proxy.forward(stub, req, head_only)  # journals the exchange once answered
        self.journal.record(req, stub.id, response.status)
        prerendered = response.prerendered
        if prerendered is not None and not self.global_delay_ms:
            if head_only:
                return response.prerendered_head + b"\r\n"  # type: ignore[operator]
            return prerendered
        reply = self.render(stub, req, head_only)
        reply.delay += self.global_delay_ms / 1000.0
        return reply

    def render(self, stub: StubMapping, req: Request, head_only: bool) -> Reply:
        r = stub.response
        delay = r.delay.sample() if r.delay.active else 0.0
        if r.fault is not None:
            return Reply(fault=r.fault, delay=delay)
        headers = r.headers
        body = r.body or b""
        ctx: dict[str, Any] | None = None
        if r.templated:
            ctx = {"request": request_model(req, stub.request.path_variables(req), self.base_url)}
            headers = [(n, compile_template(v)(ctx)) for n, v in headers]
            if r.body_template is not None:
                body = compile_template(r.body_template)(ctx).encode("utf-8")
            elif r.json_template is not None:
                body = compile_template(json.dumps(r.json_template, ensure_ascii=False))(ctx).encode("utf-8")
        if r.body_file is not None:
            name = compile_template(r.body_file)(ctx) if ctx is not None else r.body_file
            content = read_body_file(self.root, name) if self.root is not None else None
            if content is None:
                where = f"{self.root}/__files/{name}" if self.root is not None else "(no --root given)"
                msg = f"bodyFileName {name!r} of stub {stub.id} not found at {where}".encode()
                return Reply(_simple_reply(500, msg, "text/plain;charset=UTF-8", "Server Error"), delay=delay)
            body = content
            if ctx is not None:
                body = compile_template(content.decode("utf-8", "replace"))(ctx).encode("utf-8")
        head = r.head(stub.id, headers, len(body)) + b"\r\n"
        if head_only:
            body = b""
        if r.dribble is not None and body:
            count, total = r.dribble
            size = max(1, -(-len(body) // count))
            parts = [body[i : i + size] for i in range(0, len(body), size)]
            return Reply(head, delay=delay, chunks=parts, chunk_interval=total / max(1, len(parts)))
        return Reply(head + body, delay=delay)
