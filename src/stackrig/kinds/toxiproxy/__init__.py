"""`kind = "toxiproxy"`: a Toxiproxy-compatible fault server (stackrig.faults) with declared proxies.

What ``shopify/toxiproxy`` is in a compose file: tests create proxies and toxics through its API;
after each test every toxic is removed and every proxy enabled again (``POST /reset``).
Keys: docs/compose.md#toxiproxy.
"""

from __future__ import annotations

from typing import Any

from ...config import ServiceSpec
from ...services import Endpoint, ServiceKind, TestReset
from ._service import ToxiproxyService
from ._spec import ToxiproxySpec

__all__ = ["KIND", "ToxiproxyService", "ToxiproxySpec"]


def faults(endpoint: Endpoint) -> Any:
    """`rig.client(name, "faults")`: a FaultClient on the server's API."""
    from ...faults import FaultClient

    return FaultClient(endpoint.direct_url)


class _Reset(TestReset):
    """After each test: toxics removed, proxies enabled (Toxiproxy's `POST /reset`)."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.client: Any = None

    def after(self, test_id: str) -> None:
        if not self.endpoint.running:
            return
        if self.client is None:
            self.client = faults(self.endpoint)
        self.client.reset()

    def close(self) -> None:
        if self.client is not None:
            self.client.close()


def make_reset(spec: ServiceSpec, endpoint: Endpoint) -> TestReset:
    return _Reset(endpoint)



def _compose() -> Any:
    """The images this kind runs for a compose file (docs/compose.md): ``_compose.py``."""
    from ._compose import IMAGE

    return IMAGE


KIND = ServiceKind(
    name="toxiproxy",
    spec=ToxiproxySpec,
    service=ToxiproxyService,
    summary="a Toxiproxy-compatible fault server (stackrig.faults) with declared proxies; reset after each test",
    clients={"faults": faults},
    reset=make_reset,
    docs="docs/compose.md#toxiproxy",
    compose=_compose,
)
