"""Assertions on the events other processes publish, on the real broker.

A kind that carries messages offers the ``"events"`` capability: an :class:`EventsClient` whose
``tap(pattern, **options)`` subscribes in a way that copies (it never takes a message away from
the application's consumers) and ``publish(subject, body, headers=None, **options)`` sends one.
Tests use them through the rig::

    tap = rig.events("events", "orders.>")                 # capture starts now
    ...
    ev = tap.wait_for("orders.created", match={"total_cents": 1500}, timeout=5)
    tap.expect_none("orders.cancelled", during=0.5)
    rig.publish("events", "payments.failed", {"order_id": ev.body["id"]})

A wait that times out raises :class:`EventNotSeen` (an ``AssertionError``) listing every event
the tap saw, the closest first with how it differs.
"""

from .._lazy import lazy_exports
from ._client import EventsClient, QueueClient
from ._event import Event, Headers, encode_body
from ._match import Want
from ._subjects import amqp_topic, exact, glob, mqtt_topic, nats_subject
from ._tap import DEFAULT_LIMIT, EventNotSeen, Tap, TapError, UnexpectedEvent, options_limit

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._loop import LoopThread

__all__ = [
    "DEFAULT_LIMIT",
    "Event",
    "EventNotSeen",
    "EventsClient",
    "Headers",
    "LoopThread",
    "QueueClient",
    "Tap",
    "TapError",
    "UnexpectedEvent",
    "Want",
    "amqp_topic",
    "encode_body",
    "exact",
    "glob",
    "mqtt_topic",
    "nats_subject",
    "options_limit",
]

# asyncio (~20 ms to import) only for the kinds whose clients run on a loop thread, when they do
__getattr__, __dir__ = lazy_exports(__name__, {"LoopThread": "._loop"}, globals())
