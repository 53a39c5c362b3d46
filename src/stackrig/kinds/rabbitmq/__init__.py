"""`kind = "rabbitmq"`: RabbitMQ from the system (Debian/Homebrew), booted directly and fast from a
cached prepared node, with taps, publishing, queues, a per-test purge and a vhost per xdist worker.

Keys and everything else: docs/kinds/rabbitmq.md.
"""

from typing import Any

from ...services import ServiceKind
from ._client import connect_events
from ._queues import connect_queues
from ._reset import make_reset
from ._service import RABBITMQ, RabbitService
from ._slice import rabbit_slice
from ._spec import RabbitSpec

__all__ = ["KIND", "RABBITMQ", "RabbitService", "RabbitSpec"]


def _compose() -> Any:
    """The images this kind runs for a compose file (docs/compose.md): ``_compose.py``."""
    from ._compose import IMAGE

    return IMAGE


KIND = ServiceKind(
    name="rabbitmq",
    spec=RabbitSpec,
    service=RabbitService,
    summary="RabbitMQ from the system, booted from a cached node; taps, queues, per-test purge, a vhost per "
            "xdist worker",
    clients={"events": connect_events, "queues": connect_queues},
    reset=make_reset,
    slicer=rabbit_slice,
    python_modules={"aio_pika": "rig.events(), rig.publish(), rig.queue() and the per-test purge"},
    docs="docs/kinds/rabbitmq.md",
    compose=_compose,
)
