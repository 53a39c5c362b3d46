"""pytest-xdist: one node for the session, a vhost per worker; no worker sees another's messages,
each worker's app is wired to its own vhost, and each worker's tests are reset on their own."""

from __future__ import annotations

import pytest
from rabbitmq_support import needs_rabbitmq, text_of

pytestmark = [needs_rabbitmq, pytest.mark.slow]

STACK = """
[services.bus]
kind = "rabbitmq"
exchanges = [{ name = "orders", type = "topic" }]
queues = [{ name = "billing" }, { name = "parked" }]
bindings = [{ exchange = "orders", queue = "billing", routing_key = "order.*" },
            { exchange = "orders", queue = "parked", routing_key = "#" }]
tap_exchange = "orders"

[services.app]
kind = "process"
command = ["@PY@", "@RMQ_PROGRAMS@/consumer_app.py"]
port = false
ready = { log = "^connected$" }
env = { AMQP_URL = "${bus.url}", QUEUE = "billing", OUT_EXCHANGE = "orders", STATUS_FILE = "app-status.log" }
depends_on = ["bus"]
"""

TESTS = """
import os, time
import pytest

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.mark.parametrize("n", range(6))
def test_a_worker_sees_its_own_messages_only(rig, n):
    assert rig["bus"].vhost == f"stackrig-{WORKER}"
    assert rig["bus"].url.endswith(f"/stackrig-{WORKER}")
    assert len(rig.queue("bus", "parked")) == 0          # the worker's own reset ran
    mine = rig.events("bus", "#")
    for i in range(5):
        rig.publish("bus", "order.created", {"worker": WORKER, "n": n, "i": i})
        time.sleep(0.05)                                  # overlap with the other worker's test
    # this worker's app (wired to this worker's vhost by ${bus.url}) processed them
    for i in range(5):
        assert mine.wait_for("processed.order.created", match={"worker": WORKER, "i": i})
    mine.expect_none(match=lambda e: e.body.get("worker") != WORKER, during=0.3)
    assert {e.body["worker"] for e in mine.events} == {WORKER}
"""


def test_each_worker_has_its_own_vhost(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", stackrig=text_of(STACK))
    pytester.makepyfile(TESTS)
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-n", "2", timeout=300)
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(["*servers shared by the xdist workers, each with its own slice*"])
