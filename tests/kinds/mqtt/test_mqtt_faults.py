"""`faults = true` on an mqtt service: the test takes the broker away from the application and
brings it back; the application's client (paho, automatic reconnect, a persistent session)
reconnects and gets its messages — those published while it was away, and after."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from mqtt_support import BROKERS, wait_until, write_stack

from stackrig import Stack
from stackrig.rig import Rig


@pytest.mark.slow
@pytest.mark.parametrize("broker", BROKERS)
def test_the_application_reconnects_after_the_broker_was_down(tmp_path: Path, broker: str) -> None:
    path = write_stack(tmp_path, f"""
        [services.devices]
        kind = "mqtt"
        broker = "{broker}"
        faults = true
        user = "app"         # amqtt queues messages for offline sessions only when they are not anonymous
        password = "secret"

        [services.app]
        kind = "process"
        port = false
        depends_on = ["devices"]
        command = ["{sys.executable}", "@PROGRAMS@/echo_app.py"]
        env = {{ MQTT_URL = "${{devices.url}}", APP_ID = "echo-1" }}
        ready = {{ log = "^connected #1" }}
    """)
    with Stack.load(path) as rig:
        devices = rig["devices"]
        assert devices.url != devices.direct_url  # the app goes through the proxy, the test does not
        tap = rig.events("devices", "#")
        rig.publish("devices", "cmd/1", "first")
        assert tap.wait_for("ack/1").body == {"got": "first", "connects": 1}

        with rig.fault("devices").down():
            assert _wait_log(rig, "disconnected"), rig["app"].logs()
            rig.publish("devices", "cmd/while-down", "queued")  # QoS 1, to the broker itself
            tap.expect_none("ack/while-down", during=0.5)
        # up again: paho reconnects, the session is still there, the queued command arrives
        assert tap.wait_for("app/connected", match={"count": 2}, timeout=20)
        assert tap.wait_for("ack/while-down", timeout=20).body == {"got": "queued", "connects": 2}
        rig.publish("devices", "cmd/after", "back")
        assert tap.wait_for("ack/after", timeout=10).body == {"got": "back", "connects": 2}
        assert "session present: True" in rig["app"].logs(100)


def _wait_log(rig: Rig, text: str, timeout: float = 15) -> bool:
    return wait_until(lambda: text in rig["app"].logs(100), timeout)
