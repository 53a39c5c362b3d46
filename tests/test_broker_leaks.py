"""The brokers leak nothing between tests: 120 tests that each find every broker at its baseline and
then dirty it (a queued AMQP message, a JetStream message, a retained MQTT message, an SQS message and
an S3 object, a Redis key), in random order, serially and under pytest-xdist."""

from __future__ import annotations

import pytest

STACK = """
[services.bus]
kind = "rabbitmq"
queues = [{ name = "work", durable = true }]
tap_exchange = ""

[services.events]
kind = "nats"
jetstream = true
streams = [{ name = "ORDERS", subjects = ["orders.>"] }]

[services.devices]
kind = "mqtt"

[services.aws]
kind = "aws"
buckets = ["uploads"]
queues = ["jobs"]

[services.cache]
kind = "redis"
"""

TESTS = '''
import json, urllib.request
import boto3
import pytest


def stream_messages(rig):
    with urllib.request.urlopen(rig["events"].monitor_url + "/jsz?streams=true", timeout=5) as r:
        data = json.load(r)
    return sum(s["state"]["messages"] for a in data.get("account_details", [])
               for s in a.get("stream_detail", []))


def objects(rig):
    s3 = boto3.client("s3", endpoint_url=rig["aws"].url, region_name="us-east-1",
                      aws_access_key_id="test", aws_secret_access_key="test")
    return [o["Key"] for o in s3.list_objects_v2(Bucket="uploads").get("Contents", [])], s3


@pytest.mark.parametrize("n", range(120))
def test_every_broker_is_at_its_baseline_then_dirtied(rig, n):
    assert len(rig.queue("bus", "work")) == 0
    assert stream_messages(rig) == 0
    retained = rig.events("devices", "#", retained=True)
    retained.expect_none(during=0.05)
    assert len(rig.queue("aws", "jobs")) == 0
    keys, s3 = objects(rig)
    assert keys == []
    assert rig.redis("cache").dbsize() == 0

    rig.publish("bus", "work", {"n": n})
    rig.publish("events", f"orders.{n}", {"n": n}, jetstream=True)
    rig.publish("devices", f"sensors/{n}", {"n": n}, retain=True)
    rig.publish("aws", "jobs", {"n": n}, queue=True)
    s3.put_object(Bucket="uploads", Key=f"{n}.json", Body=b"{}")
    rig.redis("cache").set(f"k{n}", n)
'''


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["serial", "xdist"])
def test_no_broker_leaks_between_tests(pytester: pytest.Pytester, mode: str) -> None:
    pytester.makefile(".toml", stackrig=STACK)
    pytester.makepyfile(test_leaks=TESTS)
    args = ["-p", "randomly", "-p", "no:playwright", "-q"]
    if mode == "xdist":
        args += ["-n", "2"]
    result = pytester.runpytest_subprocess(*args, timeout=900)
    result.assert_outcomes(passed=120)
