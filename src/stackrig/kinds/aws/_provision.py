"""Creating the stack file's buckets, queues and topics on a started moto, and the baseline snapshot.

Run by the readiness probe in the runner's process (so also when a test restarts the service:
moto keeps nothing), with boto3 clients made while moto starts.  Every request carries
``X-Stackrig-Internal``: moto's change counter does not count it.
"""

from __future__ import annotations

import json
import mimetypes
import os
from pathlib import Path
from typing import Any

__all__ = ["clients", "provision", "snapshot", "folder_files", "content_type"]

INTERNAL_HEADER = "X-Stackrig-Internal"
_VOLATILE_QUEUE = ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                   "ApproximateNumberOfMessagesDelayed", "CreatedTimestamp", "LastModifiedTimestamp", "QueueArn")
_TOPIC_KEEP = ("DisplayName", "Policy", "DeliveryPolicy", "FifoTopic", "ContentBasedDeduplication",
               "KmsMasterKeyId", "SignatureVersion", "TracingConfig")
_SUB_KEEP = ("RawMessageDelivery", "FilterPolicy", "FilterPolicyScope", "RedrivePolicy")


def clients(url: str, region: str) -> tuple[Any, Any, Any]:
    """boto3 clients for S3, SQS and SNS on `url` whose requests carry the internal header."""
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name=region)
    config = Config(retries={"max_attempts": 2, "mode": "standard"}, s3={"addressing_style": "path"})
    made = []
    for name in ("s3", "sqs", "sns"):
        client = session.client(name, endpoint_url=url, config=config)
        client.meta.events.register("before-send", _mark_internal)
        made.append(client)
    return made[0], made[1], made[2]


def _mark_internal(request: Any, **_: Any) -> None:
    request.headers[INTERNAL_HEADER] = "1"


def folder_files(folder: str) -> dict[str, str]:
    """key -> file path, for every file under `folder` (keys use '/')."""
    found: dict[str, str] = {}
    root = Path(folder)
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            found[path.relative_to(root).as_posix()] = str(path)
    return found


def content_type(key: str) -> str:
    return mimetypes.guess_type(key)[0] or "application/octet-stream"


def provision(plan: dict[str, Any], url: str, made: tuple[Any, Any, Any] | None = None) -> dict[str, Any]:
    """Create the plan's resources; return the baseline snapshot."""
    if not (plan["buckets"] or plan["queues"] or plan["topics"]):
        return {"region": plan["region"], "account": plan["account"], "buckets": {}, "queues": {}, "topics": {}}
    s3, sqs, sns = made or clients(url, plan["region"])
    region, account = plan["region"], plan["account"]
    sources: dict[str, dict[str, str]] = {}
    for bucket in plan["buckets"]:
        name = bucket["name"]
        if region == "us-east-1":
            s3.create_bucket(Bucket=name)
        else:
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
        files = folder_files(bucket["from"]) if bucket.get("from") else {}
        sources[name] = files
        for key, path in files.items():
            with open(path, "rb") as f:
                s3.put_object(Bucket=name, Key=key, Body=f.read(), ContentType=content_type(key))
    for queue in plan["queues"]:  # every queue first: a redrive policy names its dead-letter queue's ARN
        sqs.create_queue(QueueName=queue["name"], Attributes=queue["attributes"])
    for queue in plan["queues"]:
        if queue.get("dead_letter"):
            policy = {"deadLetterTargetArn": f"arn:aws:sqs:{region}:{account}:{queue['dead_letter']}",
                      "maxReceiveCount": str(queue["max_receives"])}
            sqs.set_queue_attributes(QueueUrl=f"{url}/{account}/{queue['name']}",
                                     Attributes={"RedrivePolicy": json.dumps(policy)})
    for topic in plan["topics"]:
        arn = sns.create_topic(Name=topic["name"], Attributes=topic["attributes"])["TopicArn"]
        for sub in topic["subscriptions"]:
            sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=f"arn:aws:sqs:{region}:{account}:{sub['queue']}",
                          Attributes=sub["attributes"], ReturnSubscriptionArn=True)
    return snapshot(plan, url, (s3, sqs, sns), sources)


def snapshot(plan: dict[str, Any], url: str, made: tuple[Any, Any, Any],
             sources: dict[str, dict[str, str]]) -> dict[str, Any]:
    s3, sqs, sns = made
    account = plan["account"]
    buckets: dict[str, Any] = {}
    for bucket in plan["buckets"]:
        name = bucket["name"]
        objects: dict[str, Any] = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
            for obj in page.get("Contents", []):
                key = obj["Key"]
                objects[key] = {"etag": obj["ETag"], "size": obj["Size"], "source": sources[name].get(key),
                                "content_type": content_type(key)}
        buckets[name] = {"objects": objects}
    queues: dict[str, Any] = {}
    for queue in plan["queues"]:
        attrs = sqs.get_queue_attributes(QueueUrl=f"{url}/{account}/{queue['name']}",
                                         AttributeNames=["All"])["Attributes"]
        queues[queue["name"]] = {"attributes": {k: v for k, v in attrs.items() if k not in _VOLATILE_QUEUE}}
    topics: dict[str, Any] = {}
    for topic in plan["topics"]:
        arn = f"arn:aws:sns:{plan['region']}:{account}:{topic['name']}"
        attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
        subs = []
        for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=arn):
            for sub in page["Subscriptions"]:
                sub_attrs = sns.get_subscription_attributes(SubscriptionArn=sub["SubscriptionArn"])["Attributes"]
                subs.append({"protocol": sub["Protocol"], "endpoint": sub["Endpoint"],
                             "attributes": {k: v for k, v in sub_attrs.items() if k in _SUB_KEEP}})
        topics[topic["name"]] = {"arn": arn, "attributes": {k: v for k, v in attrs.items() if k in _TOPIC_KEEP},
                                 "subscriptions": subs}
    return {"region": plan["region"], "account": account, "buckets": buckets, "queues": queues, "topics": topics}
