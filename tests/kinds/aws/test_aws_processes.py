"""kind = "aws" with other processes: an app that publishes and consumes, a Node publisher, faults."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aws_support import boto
from helpers import wait_until

from stackrig import Stack
from stackrig.kinds.aws._reset import AwsReset

PROGRAMS = Path(__file__).parent / "programs"
ACCOUNT = "123456789012"

STACK = f"""
[services.aws]
kind = "aws"
faults = true
# a receive the outage cut off still took its message (moto answered into a closed connection): it is
# visible again after the visibility timeout, as on AWS
queues = [{{ name = "jobs", visibility_timeout = 2 }}]
topics = [{{ name = "order-events", subscriptions = ["jobs"] }}]

[services.app]
kind = "process"
command = ["{sys.executable}", "{PROGRAMS / 'aws_app.py'}"]
depends_on = ["aws"]
ready = {{ http = "/health" }}
env = {{ QUEUE_URL = "${{aws.url}}/{ACCOUNT}/jobs" }}
"""


@pytest.fixture(scope="module")
def stack_rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    root = tmp_path_factory.mktemp("aws-app")
    (root / "stackrig.toml").write_text(textwrap.dedent(STACK))
    stack = Stack.load(root / "stackrig.toml")
    rig = stack.up()
    reset = AwsReset(rig["aws"])
    try:
        yield rig, reset
    finally:
        reset.close()
        stack.down()


@pytest.fixture
def rig(stack_rig: Any) -> Iterator[Any]:
    the_rig, reset = stack_rig
    yield the_rig
    the_rig.close_taps()
    if the_rig.faults is not None:
        the_rig.faults.reset()
    reset.after("test")


def received(rig: Any) -> list[str]:
    return list(rig.http("app").get("/received").json()["received"])


def test_the_app_is_wired_through_the_fault_proxy(rig: Any) -> None:
    env = rig.http("app").get("/env").json()
    assert env["AWS_ENDPOINT_URL"] == rig["aws"].url != rig["aws"].direct_url
    assert env["AWS_REGION"] == "us-east-1" and env["AWS_ACCESS_KEY_ID"] == "test"


def test_a_publisher_process_is_tapped_and_its_consumer_still_gets_everything(rig: Any) -> None:
    tap = rig.events("aws", "order-events")
    for n in range(3):
        assert rig.http("app").post("/publish?topic=order-events", content=json.dumps({"n": n})).status_code == 200
    for n in range(3):
        ev = tap.wait_for(match={"n": n}, timeout=5)
        assert ev.headers["origin"] == "aws_app" and ev.headers["content-type"] == "application/json"
    assert wait_until(lambda: len(received(rig)) >= 3, 10)
    assert [json.loads(b) for b in received(rig)[-3:]] == [{"n": 0}, {"n": 1}, {"n": 2}]


def test_a_node_publisher_is_tapped(rig: Any) -> None:
    tap = rig.events("aws", "order-events")
    done = subprocess.run(["node", str(PROGRAMS / "publish.js"), rig["aws"].url,
                           f"arn:aws:sns:us-east-1:{ACCOUNT}:order-events", '{"from": "node"}'],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    ev = tap.wait_for(match={"from": "node"}, timeout=5)
    assert ev.headers["origin"].startswith("node v") and ev.meta["message_id"] == done.stdout.strip()
    assert wait_until(lambda: '{"from": "node"}' in received(rig), 10)


def test_taking_the_broker_away_and_back(rig: Any) -> None:
    proxied = boto(rig["aws"].url, "sqs", connect_timeout=1, read_timeout=2)
    queue = f"{rig['aws'].url}/{ACCOUNT}/jobs"
    before = len(received(rig))
    with rig.fault("aws").down():
        with pytest.raises(Exception) as info:
            proxied.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])
        assert type(info.value).__name__ in ("EndpointConnectionError", "ConnectionClosedError", "ReadTimeoutError")
        rig.publish("aws", "order-events", {"while": "down"})  # the test's back door bypasses the proxy
        time.sleep(1.5)
        assert len(received(rig)) == before  # the app cannot reach its queue
    assert proxied.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    assert wait_until(lambda: '{"while":"down"}' in received(rig), 15)  # its consumer reconnected and got it
    errors = rig.http("app").get("/received").json()["errors"]
    assert errors  # it did see the outage


def test_the_app_keeps_consuming_across_resets(rig: Any, stack_rig: Any) -> None:
    _, reset = stack_rig
    boto(rig["aws"].direct_url, "sqs").create_queue(QueueName="scratch")
    rig.publish("aws", "order-events", {"round": 1})
    assert wait_until(lambda: '{"round":1}' in received(rig), 10)
    reset.after("dirty")
    assert reset.last_report is not None and reset.last_report.mode == "restore"
    assert "deleted queue scratch" in reset.last_report.actions
    rig.publish("aws", "order-events", {"round": 2})
    assert wait_until(lambda: '{"round":2}' in received(rig), 10)  # same consumer, same queue URL


def test_a_restart_comes_back_provisioned_and_breaks_the_tap_loudly(rig: Any) -> None:
    tap = rig.events("aws", "order-events")
    rig["aws"].restart()  # moto keeps nothing in memory: it comes back provisioned, but the tap's queue is gone
    with pytest.raises(Exception, match="the tap on 'aws' \\(order-events\\) stopped receiving"):
        tap.wait_for(timeout=10)
    assert sorted(u.rsplit("/", 1)[-1] for u in boto(rig["aws"].direct_url, "sqs").list_queues()["QueueUrls"]) \
        == ["jobs"]
    rig.publish("aws", "order-events", {"after": "restart"})
    assert wait_until(lambda: '{"after":"restart"}' in received(rig), 15)
    assert httpx.get(f"{rig['aws'].direct_url}/_stackrig/state").json()["ready"] is True
