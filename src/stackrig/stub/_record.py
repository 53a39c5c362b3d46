"""Record mode: the state of ``/__admin/recordings`` (NeverStarted, Recording, Stopped) and what a
recording has captured.

``start`` adds a proxy stub to the target (as WireMock's ``proxyAllTo``, at the default priority),
every proxied exchange is captured while recording, and ``stop`` turns the captured exchanges into
stubs (``_snapshot``).  A recording is bounded: it keeps the newest :data:`RECORDING_LIMIT`
exchanges and at most :data:`RECORDING_BYTES_LIMIT` bytes of bodies, dropping the oldest beyond
that (and saying so on stderr).  ``snapshot`` makes stubs from the proxied requests in the journal
instead, which is bounded by the journal limit.
"""

from __future__ import annotations

import sys
from collections import deque
from typing import TYPE_CHECKING, Any

from ._journal import DEFAULT_RECORDING_LIMIT, UpstreamResponse
from ._mapping import StubMapping
from ._record_spec import RecordSpec
from ._snapshot import Exchange, take_snapshot

if TYPE_CHECKING:
    from ._app import StubApp
    from ._request import Request

__all__ = ["RECORDING_BYTES_LIMIT", "RECORDING_LIMIT", "Recorder"]

RECORDING_LIMIT = DEFAULT_RECORDING_LIMIT
RECORDING_BYTES_LIMIT = 256 * 1024 * 1024


class Recorder:
    """One server's recording: the spec, the proxy stub it added, and the exchanges captured so far."""

    def __init__(self, app: StubApp, limit: int = RECORDING_LIMIT, bytes_limit: int = RECORDING_BYTES_LIMIT) -> None:
        self.app = app
        self.status = "NeverStarted"
        self.spec = RecordSpec()
        self.limit = limit
        self.bytes_limit = bytes_limit
        self.dropped = 0
        self._proxy_stub_id: str | None = None
        self._captured: deque[Exchange] = deque()
        self._bytes = 0

    @property
    def target(self) -> str | None:
        return self.spec.target

    def start(self, spec: RecordSpec | str) -> None:
        """Start recording (a no-op while already recording, as in WireMock)."""
        if self.status == "Recording":
            return
        self.spec = RecordSpec(target=spec.rstrip("/")) if isinstance(spec, str) else spec
        self._proxy_stub_id = None
        if self.spec.target is not None:
            proxy = StubMapping({"request": {"method": "ANY"}, "response": {"proxyBaseUrl": self.spec.target}})
            self.app.store.add(proxy)
            self._proxy_stub_id = proxy.id
        self._captured.clear()
        self._bytes = 0
        self.dropped = 0
        self.status = "Recording"

    def capture(self, seq: int, req: Request, upstream: UpstreamResponse) -> None:
        """Keep one proxied exchange, if recording; the oldest go once the bounds are reached."""
        if self.status != "Recording":
            return
        self._captured.append((seq, req, upstream))
        self._bytes += len(req.body) + len(upstream.body)
        while self._captured and (len(self._captured) > self.limit or self._bytes > self.bytes_limit):
            _, old_req, old_up = self._captured.popleft()
            self._bytes -= len(old_req.body) + len(old_up.body)
            if not self.dropped:
                print(
                    f"stackrig stub: the recording is over its bounds ({self.limit} exchanges, "
                    f"{self.bytes_limit} bytes of bodies); the oldest exchanges are dropped",
                    file=sys.stderr,
                )
            self.dropped += 1

    def stop(self) -> dict[str, Any]:
        """Stop; the captured exchanges become stubs (served from now on, written with ``persist``)."""
        if self.status != "Recording":
            return {"mappings": []}
        self.status = "Stopped"
        if self._proxy_stub_id is not None:
            self.app.store.remove(self._proxy_stub_id)
            self._proxy_stub_id = None
        exchanges = list(reversed(self._captured))  # newest first, as WireMock reads its journal
        self._captured.clear()
        self._bytes = 0
        return take_snapshot(self.app, exchanges, self.spec)

    def snapshot(self, spec: RecordSpec) -> dict[str, Any]:
        """Stubs for the proxied requests in the journal (``/__admin/recordings/snapshot``)."""
        exchanges = [(e.seq, e.request, e.proxied) for e in self.app.journal.newest_first() if e.proxied is not None]
        return take_snapshot(self.app, exchanges, spec)
