"""`kind = "mqtt"`: an MQTT broker — mosquitto (the system's) or amqtt (the pure-Python wheel).

Taps and publishing with paho-mqtt (``rig.events``, ``rig.publish``); retained messages put back
to the baseline after each test.  Keys and behaviour: docs/kinds/mqtt.md.
"""

from typing import Any

from ...services import ServiceKind
from ._events import MqttEvents, connect_events
from ._reset import RetainedReset, make_reset
from ._service import AMQTT, MOSQUITTO, MQTT, MqttService
from ._spec import MqttSpec

__all__ = ["AMQTT", "KIND", "MOSQUITTO", "MQTT", "MqttEvents", "MqttService", "MqttSpec", "RetainedReset"]


def _compose() -> Any:
    """The images this kind runs for a compose file (docs/compose.md): ``_compose.py``."""
    from ._compose import IMAGE

    return IMAGE


KIND = ServiceKind(
    name="mqtt",
    spec=MqttSpec,
    service=MqttService,
    summary="MQTT broker: mosquitto (system) or the amqtt wheel; taps, publish, retained messages reset per test",
    clients={"events": connect_events},
    reset=make_reset,
    slicer=None,  # under pytest-xdist every worker runs its own broker: client ids are broker-wide
    python_modules={"paho.mqtt": "rig.events() and rig.publish() (paho-mqtt)"},
    docs="docs/kinds/mqtt.md",
    compose=_compose,
)
