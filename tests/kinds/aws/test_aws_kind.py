"""kind = "aws" on a real moto server: resources, exports, taps, publishing, queues, the reset."""
# ruff: noqa: F811 - the fixtures imported from aws_support are the tests' parameters

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

import pytest
from aws_support import aws_reset, aws_stack, boto, rig  # noqa: F401 - fixtures

from stackrig import StackrigError
from stackrig.events import TapError
from stackrig.kinds.aws._reset import AwsReset

ACCOUNT = "123456789012"


def test_exports_make_boto3_work_unchanged(rig: Any) -> None:
    env = rig["aws"].env
    assert env == {"AWS_ENDPOINT_URL": rig["aws"].url, "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
                   "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
    code = ("import boto3; s3 = boto3.client('s3'); print(sorted(b['Name'] for b in s3.list_buckets()['Buckets']));"
            "print(boto3.client('sqs').list_queues()['QueueUrls'])")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    done = subprocess.run([sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    buckets, queues = done.stdout.splitlines()
    assert buckets == "['plain', 'uploads']"
    assert f"{rig['aws'].url}/{ACCOUNT}/jobs" in queues


def test_attributes(rig: Any) -> None:
    aws = rig["aws"]
    assert aws.region == "us-east-1" and aws.account_id == ACCOUNT
    assert aws.access_key == "test" and aws.secret_key == "test"
    assert json.loads(aws.buckets) == ["plain", "uploads"]
    assert json.loads(aws.queues)["orders.fifo"] == f"{aws.url}/{ACCOUNT}/orders.fifo"
    assert json.loads(aws.topics) == {"order-events": f"arn:aws:sns:us-east-1:{ACCOUNT}:order-events",
                                      "audit": f"arn:aws:sns:us-east-1:{ACCOUNT}:audit"}


def test_buckets_are_filled_from_their_folder(rig: Any) -> None:
    s3 = boto(rig["aws"].url, "s3")
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="uploads")["Contents"])
    assert keys == ["docs/readme.json", "hello.txt"]
    got = s3.get_object(Bucket="uploads", Key="docs/readme.json")
    assert got["Body"].read() == b'{"v": 1}\n' and got["ContentType"] == "application/json"
    assert s3.list_objects_v2(Bucket="plain").get("KeyCount") == 0


def test_queues_fifo_and_dead_letter_redrive(rig: Any) -> None:
    sqs = boto(rig["aws"].url, "sqs")
    url = f"{rig['aws'].url}/{ACCOUNT}"
    fifo = sqs.get_queue_attributes(QueueUrl=f"{url}/orders.fifo", AttributeNames=["All"])["Attributes"]
    assert fifo["FifoQueue"] == "true" and fifo["ContentBasedDeduplication"] == "true"
    work = sqs.get_queue_attributes(QueueUrl=f"{url}/work", AttributeNames=["All"])["Attributes"]
    assert work["VisibilityTimeout"] == "5"
    assert json.loads(work["RedrivePolicy"]) == {"deadLetterTargetArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:dlq",
                                                 "maxReceiveCount": 2}
    sqs.send_message(QueueUrl=f"{url}/work", MessageBody="poison")
    for _ in range(2):  # received max_receives times without being deleted ...
        assert sqs.receive_message(QueueUrl=f"{url}/work", VisibilityTimeout=0)["Messages"]
    assert "Messages" not in sqs.receive_message(QueueUrl=f"{url}/work")
    assert rig.queue("aws", "dlq").receive(1)[0].text == "poison"  # ... lands in the dead-letter queue


def test_topic_subscriptions_deliver_to_the_stack_queues(rig: Any) -> None:
    rig.publish("aws", "order-events", {"id": 7})
    jobs = rig.queue("aws", "jobs").receive(1, wait=5)
    work = rig.queue("aws", "work").receive(1, wait=5)
    assert jobs[0].body == {"id": 7} and jobs[0].meta["topic_arn"].endswith(":order-events")  # envelope unwrapped
    assert json.loads(jobs[0].meta["sqs_body"])["Type"] == "Notification"
    assert work[0].body == {"id": 7} and "topic_arn" not in work[0].meta  # raw delivery


def test_tap_copies_without_taking_from_the_app(rig: Any) -> None:
    tap = rig.events("aws", "order-events")
    rig.publish("aws", "order-events", {"id": 1, "total": 15}, {"kind": "created"}, sns_subject="new order")
    ev = tap.wait_for("order-events", match={"total": 15}, timeout=5)
    assert ev.headers["content-type"] == "application/json" and ev.headers["kind"] == "created"
    assert ev.meta["topic_arn"] == f"arn:aws:sns:us-east-1:{ACCOUNT}:order-events"
    assert ev.meta["sns_subject"] == "new order" and ev.meta["message_id"]
    assert [e.body for e in rig.queue("aws", "jobs").receive(5, wait=2)] == [{"id": 1, "total": 15}]  # still there
    tap.expect_none("order-events", match={"total": 99}, during=0.2)


def test_tap_sees_what_boto3_publishes_with_its_attributes(rig: Any) -> None:
    tap = rig.events("aws", "order-*")  # a glob over topic names
    sns = boto(rig["aws"].url, "sns")
    sns.publish(TopicArn=f"arn:aws:sns:us-east-1:{ACCOUNT}:order-events", Message="plain text",
                MessageAttributes={"ContentType": {"DataType": "String", "StringValue": "text/plain"}})
    ev = tap.wait_for(timeout=5)
    assert ev.subject == "order-events" and ev.body == b"plain text"
    assert ev.headers["content-type"] == "text/plain"


def test_tap_on_a_fifo_topic(rig: Any) -> None:
    sns = boto(rig["aws"].url, "sns")
    arn = sns.create_topic(Name="payments.fifo", Attributes={"FifoTopic": "true",
                                                             "ContentBasedDeduplication": "true"})["TopicArn"]
    tap = rig.events("aws", arn)
    rig.publish("aws", "payments.fifo", {"n": 1}, group_id="g1")
    assert tap.wait_for(timeout=5).meta["group_id"] == "g1"


def test_tapping_a_queue_is_refused_and_points_at_rig_queue(rig: Any) -> None:
    with pytest.raises(StackrigError) as info:
        rig.events("aws", "jobs")
    text = str(info.value)
    assert "rig.events('aws', 'jobs'): 'jobs' is an SQS queue, and a tap cannot copy from a queue" in text
    assert "taken away from the queue's consumers" in text
    assert "fix: use rig.queue('aws', 'jobs').peek()" in text


def test_tap_errors_name_the_topics_and_options(rig: Any) -> None:
    with pytest.raises(StackrigError, match=r"no SNS topic matches 'nope' on service 'aws'; topics: audit, "
                                            r"order-events"):
        rig.events("aws", "nope")
    with pytest.raises(StackrigError, match=r"unknown option\(s\) exchange for an aws service; options: limit"):
        rig.events("aws", "audit", exchange="x")
    with pytest.raises(StackrigError, match="tap option limit=0: expected a positive integer"):
        rig.events("aws", "audit", limit=0)


def test_publish_to_a_queue_and_its_errors(rig: Any) -> None:
    rig.publish("aws", "jobs", ["a", 1], {"trace": "t1"}, queue=True)
    rig.publish("aws", "orders.fifo", "first", queue=True, group_id="g")
    (ev,) = rig.queue("aws", "jobs").receive(1)
    assert ev.body == ["a", 1] and ev.headers["content-type"] == "application/json" and ev.headers["trace"] == "t1"
    assert rig.queue("aws", "orders.fifo").receive(1)[0].meta["group_id"] == "g"
    with pytest.raises(StackrigError) as info:
        rig.publish("aws", "dlq", {"x": 1})
    assert "no SNS topic 'dlq' on service 'aws'; topics: audit, order-events; 'dlq' is an SQS queue: pass " \
           "queue=True to send to it" in str(info.value)
    with pytest.raises(StackrigError, match="no SQS queue 'nope' on service 'aws'; queues: jobs, dlq, work"):
        rig.publish("aws", "nope", {}, queue=True)
    with pytest.raises(StackrigError, match=r"unknown option\(s\) exchange; options: queue, sns_subject"):
        rig.publish("aws", "audit", {}, exchange="x")
    with pytest.raises(StackrigError, match="this body is not UTF-8"):
        rig.publish("aws", "audit", b"\xff\xfe")


def test_queue_peek_receive_purge_len(rig: Any) -> None:
    q = rig.queue("aws", "jobs")
    for i in range(12):
        rig.publish("aws", "jobs", {"i": i}, queue=True)
    assert len(q) == 12
    peeked = q.peek(20)
    assert sorted(e.body["i"] for e in peeked) == list(range(12))
    assert {e.meta["receive_count"] for e in peeked} == {1}  # a peek is a receive: the count went up
    assert len(q) == 12  # and the messages are back at once
    got = q.receive(3)
    assert len(got) == 3 and len(q) == 9
    assert q.peek(1)[0].meta["receive_count"] >= 2
    q.purge()
    assert len(q) == 0 and q.receive(1, wait=0.2) == []
    with pytest.raises(StackrigError, match="rig.queue\\('aws', 'order-events'\\): no SQS queue 'order-events'"):
        rig.queue("aws", "order-events")


def test_a_broken_subscription_reaches_the_test(aws_stack: Any, aws_reset: AwsReset) -> None:
    tap = aws_stack.events("aws", "audit")
    try:
        sqs = boto(aws_stack["aws"].url, "sqs")
        for url in sqs.list_queues(QueueNamePrefix="stackrig-tap-")["QueueUrls"]:
            sqs.delete_queue(QueueUrl=url)  # the tap's own queue disappears under it
        with pytest.raises(TapError) as info:
            tap.wait_for(timeout=5)
        assert "the tap on 'aws' (audit) stopped receiving: An error occurred" in str(info.value)
    finally:
        aws_stack.close_taps()
        aws_reset.after("broken-subscription")


# -- the per-test reset ------------------------------------------------------------------------------
def test_reset_noop_costs_one_request(rig: Any, aws_reset: AwsReset) -> None:
    boto(rig["aws"].url, "s3").list_objects_v2(Bucket="uploads")  # reads change nothing
    boto(rig["aws"].url, "sqs").receive_message(QueueUrl=f"{rig['aws'].url}/{ACCOUNT}/jobs")  # an empty receive
    t0 = time.perf_counter()
    aws_reset.after("noop")
    elapsed = time.perf_counter() - t0
    assert aws_reset.last_report is not None and aws_reset.last_report.mode == "noop"
    assert elapsed < 0.5  # a bound, not a benchmark (benchmarks/broker_aws.py measures it)


def test_reset_puts_s3_back_in_place(rig: Any, aws_reset: AwsReset) -> None:
    s3 = boto(rig["aws"].url, "s3")  # the app's client: it keeps working after the reset
    s3.put_object(Bucket="uploads", Key="new.txt", Body=b"added")
    s3.put_object(Bucket="uploads", Key="hello.txt", Body=b"changed")
    s3.delete_object(Bucket="uploads", Key="docs/readme.json")
    s3.create_bucket(Bucket="scratch")
    s3.put_object(Bucket="scratch", Key="k", Body=b"v")
    s3.delete_bucket(Bucket="plain")
    aws_reset.after("s3")
    report = aws_reset.last_report
    assert report is not None and report.mode == "restore" and report.areas == ("s3",)
    assert sorted(b["Name"] for b in s3.list_buckets()["Buckets"]) == ["plain", "uploads"]
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket="uploads")["Contents"]) == ["docs/readme.json",
                                                                                           "hello.txt"]
    assert s3.get_object(Bucket="uploads", Key="hello.txt")["Body"].read() == b"hello\n"
    assert s3.get_object(Bucket="uploads", Key="docs/readme.json")["ContentType"] == "application/json"


def test_reset_purges_queues_in_place_and_removes_extras(rig: Any, aws_reset: AwsReset) -> None:
    sqs = boto(rig["aws"].url, "sqs")
    url = f"{rig['aws'].url}/{ACCOUNT}"
    sqs.send_message(QueueUrl=f"{url}/jobs", MessageBody="waiting")
    sqs.send_message(QueueUrl=f"{url}/jobs", MessageBody="in flight")
    sqs.send_message(QueueUrl=f"{url}/jobs", MessageBody="delayed", DelaySeconds=60)
    assert sqs.receive_message(QueueUrl=f"{url}/jobs", VisibilityTimeout=60)["Messages"]  # one in flight
    sqs.create_queue(QueueName="extra")
    sqs.set_queue_attributes(QueueUrl=f"{url}/work", Attributes={"VisibilityTimeout": "99"})
    sqs.delete_queue(QueueUrl=f"{url}/dlq")
    aws_reset.after("sqs")
    names = sorted(u.rsplit("/", 1)[-1] for u in sqs.list_queues()["QueueUrls"])
    assert names == ["dlq", "jobs", "orders.fifo", "work"]
    counts = sqs.get_queue_attributes(QueueUrl=f"{url}/jobs", AttributeNames=["All"])["Attributes"]
    assert [counts[k] for k in ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                                "ApproximateNumberOfMessagesDelayed")] == ["0", "0", "0"]
    work = sqs.get_queue_attributes(QueueUrl=f"{url}/work", AttributeNames=["All"])["Attributes"]
    assert work["VisibilityTimeout"] == "5" and "dlq" in work["RedrivePolicy"]
    sqs.send_message(QueueUrl=f"{url}/dlq", MessageBody="same URL as before")  # the app's URL still works
    assert rig.queue("aws", "dlq").receive(1)[0].text == "same URL as before"


def test_reset_puts_topics_and_subscriptions_back(rig: Any, aws_reset: AwsReset) -> None:
    sns = boto(rig["aws"].url, "sns")
    arn = f"arn:aws:sns:us-east-1:{ACCOUNT}:order-events"
    subs = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    for sub in subs:
        sns.unsubscribe(SubscriptionArn=sub["SubscriptionArn"])
    sns.delete_topic(TopicArn=f"arn:aws:sns:us-east-1:{ACCOUNT}:audit")
    sns.create_topic(Name="extra-topic")
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=f"arn:aws:sqs:us-east-1:{ACCOUNT}:dlq")
    aws_reset.after("sns")
    topics = sorted(t["TopicArn"].rsplit(":", 1)[-1] for t in sns.list_topics()["Topics"])
    assert topics == ["audit", "order-events"]
    ends = sorted(s["Endpoint"].rsplit(":", 1)[-1] for s in sns.list_subscriptions_by_topic(TopicArn=arn)
                  ["Subscriptions"])
    assert ends == ["jobs", "work"]
    rig.publish("aws", "order-events", {"after": "reset"})
    (work,) = rig.queue("aws", "work").receive(1, wait=5)
    assert work.body == {"after": "reset"} and "topic_arn" not in work.meta  # raw delivery restored


def test_resources_created_by_earlier_tests_are_gone(rig: Any) -> None:
    sns = boto(rig["aws"].url, "sns")
    assert sorted(t["TopicArn"].rsplit(":", 1)[-1] for t in sns.list_topics()["Topics"]) == ["audit",
                                                                                            "order-events"]
    assert rig.queue("aws", "jobs").peek() == []


def test_a_failed_reset_leaves_the_service_dirty(aws_stack: Any) -> None:
    reset = AwsReset(aws_stack["aws"])
    try:
        boto(aws_stack["aws"].url, "s3").put_object(Bucket="uploads", Key="hello.txt", Body=b"x")
        reset.objects["uploads"]["hello.txt"]["source"] = "/nonexistent/hello.txt"  # cannot be put back
        with pytest.raises(StackrigError) as info:
            reset.after("tests/x.py::test_y")
        assert "service 'aws': could not put S3 back to its baseline after tests/x.py::test_y: " \
               "FileNotFoundError" in str(info.value)
        assert reset.still_dirty()
    finally:
        reset.close()
