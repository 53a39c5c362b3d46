"""`faults = true`: the app reaches the broker through the fault proxy; a test takes the broker away
and brings it back, and the app (aio-pika's connect_robust) reconnects and gets its messages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import wait_until
from rabbitmq_support import needs_rabbitmq

from stackrig.rig import Rig

pytestmark = [needs_rabbitmq, pytest.mark.slow]

STACK = """
[services.bus]
kind = "rabbitmq"
faults = true
exchanges = [{ name = "orders", type = "topic" }]
queues = [{ name = "billing" }]
bindings = [{ exchange = "orders", queue = "billing", routing_key = "order.*" }]
tap_exchange = "orders"

[services.app]
kind = "process"
command = ["@PY@", "@RMQ_PROGRAMS@/consumer_app.py"]
port = false
ready = { log = "^connected$" }
env = { AMQP_URL = "${bus.url}", QUEUE = "billing", OUT_EXCHANGE = "orders", STATUS_FILE = "app-status.log" }
depends_on = ["bus"]
"""


def test_the_broker_goes_away_and_comes_back(up: Callable[[str], Rig]) -> None:
    rig = up(STACK)
    bus = rig["bus"]
    assert bus.url != bus.direct_url and bus.info.proxied  # the app got the proxied address
    assert rig["app"].env == {} and rig.env["AMQP_URL"] == bus.url
    status = Path(rig.record.stack_file).parent / "app-status.log"
    processed = rig.events("bus", "processed.#")  # the test's own connection: never through the proxy
    rig.publish("bus", "order.before", {"n": 0})
    assert processed.wait_for("processed.order.before")
    with rig.fault("bus").down():
        assert wait_until(lambda: "disconnected" in status.read_text(), 20)  # the app lost its connection
        for n in range(1, 4):
            rig.publish("bus", "order.during", {"n": n})  # the back door still works
        processed.expect_none("processed.order.during", during=0.5)
        assert len(rig.queue("bus", "billing")) == 3  # waiting for the app
    assert wait_until(lambda: "reconnected" in status.read_text(), 30)
    for n in range(1, 4):
        assert processed.wait_for("processed.order.during", match={"n": n}, timeout=20)
    assert len(rig.queue("bus", "billing")) == 0
