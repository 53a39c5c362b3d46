"""Fixtures of the mqtt kind's tests: one running broker per module and broker kind, helpers."""

from __future__ import annotations

import os
import socket
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from stackrig import Stack
from stackrig.rig import Rig

BROKERS = ["mosquitto", "amqtt"]


def _no_mosquitto() -> bool:
    from helpers import system_binary

    from stackrig.kinds.mqtt import MOSQUITTO

    return system_binary(MOSQUITTO) is None


NO_MOSQUITTO = _no_mosquitto()
needs_mosquitto = pytest.mark.skipif(NO_MOSQUITTO, reason="mosquitto is not installed (apt-get install mosquitto); "
                                                          "amqtt, the wheel, is tested")


def _ensure_the_kind_is_registered() -> None:
    """pyproject.toml registers `mqtt` in the `stackrig.kinds` entry points, but an editable install
    made from an older pyproject.toml lacks it (stackrig's installed metadata is what the registry
    reads).  Only then: a throwaway distribution carrying just that entry point, on sys.path and
    PYTHONPATH (for the CLI and pytester subprocesses) — this session only, the venv untouched."""
    from stackrig.services import registry, reset_registry

    if "mqtt" in registry():
        return
    import tempfile

    shim = Path(tempfile.mkdtemp(prefix="stackrig-mqtt-entry-point-"))
    info = shim / "stackrig_mqtt_entry_point-0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: stackrig-mqtt-entry-point\nVersion: 0\n")
    (info / "entry_points.txt").write_text("[stackrig.kinds]\nmqtt = stackrig.kinds.mqtt:KIND\n")
    sys.path.append(str(shim))
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), str(shim)]))
    reset_registry()
    assert "mqtt" in registry()


_ensure_the_kind_is_registered()
HERE = Path(__file__).parent
PROGRAMS = HERE / "programs"


def write_stack(folder: Path, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "stackrig.toml"
    path.write_text(textwrap.dedent(body).replace("@PROGRAMS@", str(PROGRAMS)))
    return path


class Running:
    """A stack run for a module: its rig, its Stack, helpers for raw clients."""

    def __init__(self, stack: Stack, rig: Rig, broker: str) -> None:
        self.stack = stack
        self.rig = rig
        self.broker = broker

    @property
    def v5(self) -> bool:
        return self.broker == "mosquitto"

    def client(self, name: str = "devices", *, client_id: str | None = None, clean: bool = True,
               url: str | None = None, **kw: Any) -> Any:
        """A connected paho client (loop started) acting as the application."""
        return paho_client(url or self.rig[name].direct_url, v5=self.v5, client_id=client_id, clean=clean, **kw)


def paho_client(url: str, *, v5: bool, client_id: str | None = None, clean: bool = True,
                subscribe: list[tuple[str, int]] | None = None) -> Any:
    import threading
    from urllib.parse import urlsplit

    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    parts = urlsplit(url)
    cid = client_id or f"app-{os.getpid()}-{os.urandom(3).hex()}"
    if v5:
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=cid, protocol=mqtt.MQTTv5)
    else:
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=cid, clean_session=clean, protocol=mqtt.MQTTv311)
    if parts.username:
        c.username_pw_set(parts.username, parts.password)
    c.received = []  # type: ignore[attr-defined]
    c.subscribed = threading.Event()  # type: ignore[attr-defined]
    c.on_message = lambda client, userdata, msg: client.received.append(msg)
    c.on_subscribe = lambda client, userdata, mid, codes, props: client.subscribed.set()
    connected = threading.Event()
    c.on_connect = lambda client, userdata, flags, code, props: connected.set()
    c.connect(parts.hostname, parts.port, keepalive=30)
    c.loop_start()
    assert connected.wait(10), "the test's own client did not connect"
    for topic, qos in subscribe or []:
        c.subscribed.clear()
        c.subscribe(topic, qos)
        assert c.subscribed.wait(10)
    return c


def stop_client(c: Any) -> None:
    c.disconnect()
    c.loop_stop()


def wait_until(check: Callable[[], bool], timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.01)
    return check()


def retained_now(url: str, v5: bool, topic_filter: str = "#") -> dict[str, bytes]:
    """What the broker retains (through stackrig's own scan, on a connection of its own)."""
    from stackrig.kinds.mqtt._events import Target

    target = Target("check", url, {"protocol": "5" if v5 else "3.1.1",
                                   "broker": "mosquitto" if v5 else "amqtt"})
    client = target.wire(role="test-scan")
    try:
        return {t: m.payload for t, m in target.scan(client, topic_filter).items()}
    finally:
        client.close()


@pytest.fixture(scope="module", params=BROKERS)
def running(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """A stack with one mqtt service `devices` on each broker (one run per module and broker)."""
    broker = request.param
    if broker == "mosquitto" and NO_MOSQUITTO:
        pytest.skip("mosquitto is not installed (apt-get install mosquitto); amqtt, the wheel, is tested")
    path = write_stack(tmp_path_factory.mktemp(f"mqtt-{broker}"), f"""
        [services.devices]
        kind = "mqtt"
        broker = "{broker}"
        export = {{ MQTT_URL = "${{url}}" }}
    """)
    stack = Stack.load(path)
    rig = stack.up()
    try:
        yield Running(stack, rig, broker)
    finally:
        stack.down()


@pytest.fixture
def bus(running: Running) -> Iterator[Rig]:
    """The module's rig; the test's taps are closed and the broker's retained messages cleared after it."""
    yield running.rig
    running.rig.close_taps()
    from stackrig.kinds.mqtt import RetainedReset
    from stackrig.kinds.mqtt._events import target_of

    reset = RetainedReset(target_of(running.rig["devices"]), keep=[], timeout=5)
    reset.baseline = {}
    try:
        reset.after("cleanup")
    finally:
        reset.close()


def free_port_closed() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
