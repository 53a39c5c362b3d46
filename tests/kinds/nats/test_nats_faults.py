"""`faults = true`: the application reaches NATS through the fault proxy; a test takes the bus away
and brings it back.  The app's client reconnects; its durable JetStream consumer gets every message
stored meanwhile (and those a retrying publisher got acked after the outage); its core
subscription, by NATS's own rules, does not get what was published while it was away."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import wait_until
from nats_helpers import NATS_PROGRAMS, get_json

from stackrig.rig import Rig

STACK = """
[services.events]
kind = "nats"
jetstream = true
faults = true
streams = [{ name = "ORDERS", subjects = ["orders.>"] }]
consumers = [{ stream = "ORDERS", durable = "mailer", filter_subject = "orders.created", ack_wait = 2 }]

[services.app]
kind = "process"
command = ["@PY@", "@NATS_PROGRAMS@/app.py"]
depends_on = ["events"]
env = { DURABLE = "mailer", STREAM = "ORDERS", CORE_SUBJECT = "orders.created" }
ready = { http = "/health" }
"""


def ids(messages: list[dict[str, object]]) -> list[int]:
    return [json.loads(str(m["body"]))["id"] for m in messages]


@pytest.mark.slow
def test_the_bus_goes_away_and_the_durable_consumer_gets_everything(up: Callable[[str], Rig],
                                                                     tmp_path: Path) -> None:
    rig = up(STACK)
    events = rig["events"]
    assert rig.env["NATS_URL"] == events.url != events.direct_url  # the app's URL is the proxy's
    seen = rig["app"].url + "/seen"
    tap = rig.events("events", "orders.>")  # the test's back door: never through the proxy

    rig.publish("events", "orders.created", {"id": 1}, jetstream=True)
    assert wait_until(lambda: ids(get_json(seen)["durable"]) == [1], 10)
    js = rig.client("events", "jetstream")
    assert wait_until(lambda: js.consumer_info("ORDERS", "mailer")["ack_floor"]["stream_seq"] == 1, 10)

    trigger = tmp_path / "go"
    publisher = subprocess.Popen(
        [sys.executable, str(NATS_PROGRAMS / "publish.py"), events.url, "orders.created", "4", "5",
         "--jetstream-retry", "--wait-for", str(trigger)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert publisher.stdout is not None and publisher.stdout.readline().strip() == "connected"
        with rig.fault("events").down():
            assert wait_until(lambda: "disconnected" in get_json(seen)["events"], 10)
            rig.publish("events", "orders.created", {"id": 2}, jetstream=True)  # stored: the server is up
            rig.publish("events", "orders.created", {"id": 3}, jetstream=True)
            trigger.touch()  # the publisher's connection is down too: it retries until acked
            time.sleep(1.5)  # longer than its publish timeout (1 s): it has to retry
            assert ids(get_json(seen)["durable"]) == [1]  # nothing reaches the app while the bus is away
            assert tap.count("orders.created") == 3  # the back door still works
        out, err = publisher.communicate(timeout=60)
    finally:
        if publisher.poll() is None:
            publisher.kill()
    assert publisher.returncode == 0, err
    assert "acked 4" in out and "acked 5" in out and "retry 4" in out  # it did have to retry
    assert wait_until(lambda: sorted(ids(get_json(seen)["durable"])) == [1, 2, 3, 4, 5], 20), get_json(seen)
    got = get_json(seen)
    assert "reconnected" in got["events"]
    rig.publish("events", "orders.created", {"id": 6})  # core, after the outage
    assert wait_until(lambda: 6 in ids(get_json(seen)["core"]), 10)
    core = ids(get_json(seen)["core"])
    assert 1 in core and 2 not in core and 3 not in core  # core NATS keeps nothing for an absent subscriber
    assert js.stream_info("ORDERS")["state"]["messages"] == 6  # 1-5 once each (Nats-Msg-Id), 6
    time.sleep(2.5)  # past ack_wait: nothing is redelivered, every message was acked once
    assert sorted(ids(get_json(seen)["durable"])) == [1, 2, 3, 4, 5, 6]
