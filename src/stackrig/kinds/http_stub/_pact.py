"""Consumer pacts from an http-stub service: ``pact = { consumer = "shop", provider = "payments" }``.

The stub server's journal holds what the consumer exchanged with it; the per-test reset empties
it.  So the journal is turned into pact interactions (:mod:`stackrig.pact`) just before each reset
(between pytest tests, or ``stackrig reset`` from another test runner) and before the server stops
(the end of ``stackrig run``/``up``, or a test stopping the service), and merged into
``<pact_dir>/<consumer>-<provider>.json``.  Every process of the session adds to the same file
(pytest-xdist workers each run their own stub): see :func:`stackrig.pact.record_interactions`.

Where the file goes: the table's ``dir``, else ``$STACKRIG_PACT_DIR``, else ``[stackrig] pact_dir``,
else ``pacts`` — relative to the stack file.  The resolved paths travel in the service's
attributes (``pact_file``, ``pact_parts``, ``stub_root``), so a reset in another process (a pytest
session attached to ``stackrig up -d``) writes to the same place.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...config import Spec, SpecError
from ...errors import StackrigError
from ...services import Endpoint

if TYPE_CHECKING:
    from . import HttpStubService

__all__ = ["PACT_DIR_ENV", "PactCapture", "PactSpec", "pact_attributes", "start_pact_session", "stop_capture"]

PACT_DIR_ENV = "STACKRIG_PACT_DIR"
_UNSAFE = set('/\\:*?"<>|')


class PactSpec(Spec, kw_only=True):
    """The ``pact`` table of an http-stub service."""

    consumer: str  # the application under test that calls the stub
    provider: str  # the API the stub stands in for
    file: str | None = None  # default: "<consumer>-<provider>.json"
    dir: str | None = None  # default: $STACKRIG_PACT_DIR, [stackrig] pact_dir, "pacts"

    def __post_init__(self) -> None:
        for key in ("consumer", "provider"):
            value = getattr(self, key)
            if not value.strip():
                raise SpecError(f"pact.{key}", f"pact.{key} must name the {key}, found an empty string")
        if self.file is not None and (not self.file.endswith(".json") or _UNSAFE & set(self.file)):
            raise SpecError("pact.file", f"pact.file must be a file name ending in .json, found {self.file!r}")

    @property
    def file_name(self) -> str:
        if self.file:
            return self.file
        name = f"{self.consumer}-{self.provider}.json"
        return "".join("_" if c in _UNSAFE or c.isspace() else c for c in name)


def _pact_dir(spec: PactSpec, service: HttpStubService) -> Path:
    root = service.ctx.stack_root
    settings = service.ctx.settings
    chosen = spec.dir or os.environ.get(PACT_DIR_ENV) or (settings.pact_dir if settings else None) or "pacts"
    return (root / chosen).resolve()


def pact_attributes(service: HttpStubService) -> dict[str, str]:
    """The attributes a stub with a pact adds: where its pact and its parts go, its mappings root."""
    spec: PactSpec | None = getattr(service.spec, "pact", None)
    if spec is None:
        return {}
    mappings = service.spec.mappings
    root = service.ctx.stack_root / mappings if mappings else service.ctx.data_dir / service.name
    return {
        "pact_file": str(_pact_dir(spec, service) / spec.file_name),
        "pact_parts": str(service.ctx.stack_root / ".stackrig" / "pact-parts"),
        "stub_root": str(root),
    }


def start_pact_session(service: HttpStubService) -> None:
    """At launch: a stack's owner records into its run's session unless a test session named one."""
    if getattr(service.spec, "pact", None) is None:
        return
    from ...pact import set_session

    set_session(service.ctx.run_id)


class PactCapture:
    """Turns a stub's journal into pact interactions, before it is emptied."""

    def __init__(self, spec: PactSpec, url: str, attributes: dict[str, str]) -> None:
        self.spec = spec
        self.url = url.rstrip("/")
        self.pact_file = attributes.get("pact_file") or str(Path("pacts") / spec.file_name)
        self.parts = attributes.get("pact_parts") or None
        self.root = Path(attributes["stub_root"]) if attributes.get("stub_root") else None
        self._http: Any = None

    @classmethod
    def of(cls, spec: Any, endpoint: Endpoint) -> PactCapture | None:
        pact = getattr(spec, "pact", None)
        if pact is None:
            return None
        return cls(pact, endpoint.direct_url, dict(endpoint.attributes))

    def capture(self) -> int:
        """Record what the journal holds now; the number of interactions it gave."""
        import httpx

        from ...pact import interactions_from_journal, record_interactions

        if self._http is None:
            self._http = httpx.Client(timeout=30)
        try:
            reply = self._http.get(f"{self.url}/__admin/requests")
            reply.raise_for_status()
            events = list(reversed(reply.json().get("requests") or []))  # oldest first
        except (httpx.HTTPError, ValueError) as exc:
            raise StackrigError(f"pact {self.spec.file_name}: cannot read the stub's journal at {self.url}: {exc}",
                                hint="the stub server stopped answering; see its log") from exc
        batch = interactions_from_journal(events, self.root, self.url)
        if batch:
            record_interactions(self.pact_file, self.spec.consumer, self.spec.provider, batch,
                                parts_dir=self.parts)
        return len(batch)

    def capture_safely(self) -> StackrigError | None:
        """:meth:`capture`, its failure returned (the reset after it must run anyway)."""
        try:
            self.capture()
        except StackrigError as exc:
            return exc
        except Exception as exc:  # noqa: BLE001 - a bug here must not keep the stub from resetting
            return StackrigError(f"pact {self.spec.file_name}: recording the stub's exchanges failed: "
                                 f"{type(exc).__name__}: {exc}")
        return None

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None


def stop_capture(service: HttpStubService) -> None:
    """Before the stub server stops: record the journal's last exchanges (a failure is a warning of
    the run, never a failed teardown)."""
    spec: PactSpec | None = getattr(service.spec, "pact", None)
    if spec is None or service.port is None or not any(i.process.alive() for i in service.instances):
        return
    capture = PactCapture(spec, service.url_for(service.port), pact_attributes(service))
    try:
        failure = capture.capture_safely()
    finally:
        capture.close()
    if failure is not None:
        service.ctx.warn(f"service '{service.name}': {failure}")
