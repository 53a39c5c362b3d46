"""`kind = "http-stub"`: stackrig's WireMock-compatible stub server, reachable by any process.

Keys: docs/stack-file.md#http-stub; the server and client: docs/stubs.md; `pact`: docs/pact.md.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import msgspec

from ...config import Port, ServiceSpec
from ...services import Endpoint, Service, ServiceKind, TestReset
from ...supervisor import HttpProbe, Probe
from ._pact import PactCapture, PactSpec, pact_attributes, start_pact_session, stop_capture

__all__ = ["KIND", "HttpStubSpec", "HttpStubService"]


class HttpStubSpec(ServiceSpec, kw_only=True):
    mappings: str | None = None  # folder holding mappings/ and __files/
    port: Port | None = None
    journal_limit: Annotated[int, msgspec.Meta(ge=0)] = 10000  # requests kept; memory stays flat
    pact: PactSpec | None = None  # a consumer pact of the stubs the consumer's calls matched (docs/pact.md)


class HttpStubService(Service):
    spec: HttpStubSpec

    def default_probe(self) -> Probe:
        return HttpProbe("/__admin/health")

    def attributes(self, port: int | None = None) -> dict[str, str]:
        return {**super().attributes(port), **pact_attributes(self)}  # pact_file, pact_parts, stub_root

    def launch(self) -> None:
        assert self.port is not None
        mappings = self.spec.mappings
        root = self.ctx.stack_root / mappings if mappings else self.ctx.data_dir / self.name
        root.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", "stackrig.stub", "--host", self.host, "--port", str(self.port),
                "--root", str(root), "--journal-limit", str(self.spec.journal_limit)]
        start_pact_session(self)
        self.spawn(argv, self.base_env(), self.ctx.stack_root, self.port)

    def stop(self, final: bool = False) -> None:
        stop_capture(self)  # the journal's last exchanges go into the pact before the server goes
        super().stop(final)


def stub_client(endpoint: Endpoint) -> Any:
    from ...stub import StubClient

    return StubClient(endpoint.direct_url)


class _StubReset(TestReset):
    """After each test: stubs back to the mapping files, journal and scenarios cleared (with a `pact`,
    the journal is recorded into the pact first)."""

    def __init__(self, endpoint: Endpoint, spec: ServiceSpec | None = None) -> None:
        self.endpoint = endpoint
        self.client: Any = None
        self.pact = PactCapture.of(spec, endpoint)
        self.clean = False  # only the pact recording failed: the stub itself was reset

    def after(self, test_id: str) -> None:
        self.clean = False
        if not self.endpoint.running:  # the test took it down; it starts from its files anyway
            return
        if self.client is None:
            self.client = stub_client(self.endpoint)
        failed = self.pact.capture_safely() if self.pact is not None else None
        self.client.reset()
        if failed is not None:
            self.clean = True
            raise failed

    def still_dirty(self) -> bool:
        return not self.clean

    def close(self) -> None:
        if self.pact is not None:
            self.pact.close()
        if self.client is not None:
            self.client.close()


def make_reset(spec: ServiceSpec, endpoint: Endpoint) -> TestReset:
    return _StubReset(endpoint, spec)



def _compose() -> Any:
    """The images this kind runs for a compose file (docs/compose.md): ``_compose.py``."""
    from ._compose import IMAGE

    return IMAGE


KIND = ServiceKind(
    name="http-stub",
    spec=HttpStubSpec,
    service=HttpStubService,
    summary="a WireMock-compatible HTTP stub server (mapping files, admin API, verification, faults)",
    clients={"stub": stub_client},
    reset=make_reset,
    docs="docs/stubs.md",
    compose=_compose,
)
