"""The per-test reset of an aws service: S3, SQS and SNS back to their baseline, in place.

The baseline is what the stack file declares (buckets with the objects of their ``from`` folder,
queues with their attributes and redrive policies, topics with their subscriptions), as the
server snapshotted it right after creating it — plus whatever else exists when the test session
starts (what the application created at boot is kept).

The noop check: moto runs with a change counter per area (see ``_moto_main``); one GET of
``/_stackrig/state`` tells whether anything could have changed S3, SQS or SNS since the last
reset.  Only the areas that changed are looked at:

* **SNS**: topics the test created are deleted, deleted ones re-created (same ARN), subscriptions
  the test added are removed and removed ones re-subscribed, topic attributes set back;
* **SQS**: queues the test created are deleted, deleted ones re-created (same URL), attributes set
  back, and every baseline queue that holds messages (visible, in flight or delayed) is purged;
* **S3**: buckets the test created are emptied and deleted, deleted ones re-created; in baseline
  buckets, objects the test added are deleted and objects it changed or deleted are put back
  (compared by ETag and size).

The reset's own requests carry ``X-Stackrig-Internal`` and are not counted.  The application's
clients keep working throughout: endpoint, bucket names, queue URLs and topic ARNs stay the same.
"""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ...config import ServiceSpec
from ...errors import IsolationError
from ...services import Endpoint, TestReset
from ._client import boto_clients
from ._spec import AwsSpec

__all__ = ["AwsReset", "ResetReport", "make_reset", "AREAS"]

AREAS = ("sns", "sqs", "s3")  # in this order: no new deliveries into queues while they are purged
_VOLATILE_QUEUE = ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                   "ApproximateNumberOfMessagesDelayed", "CreatedTimestamp", "LastModifiedTimestamp", "QueueArn")
_COUNTS = ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
           "ApproximateNumberOfMessagesDelayed")
_TOPIC_KEEP = ("DisplayName", "Policy", "DeliveryPolicy", "KmsMasterKeyId", "SignatureVersion", "TracingConfig")
_SUB_KEEP = ("RawMessageDelivery", "FilterPolicy", "FilterPolicyScope", "RedrivePolicy")
_TAP_PREFIX = "stackrig-tap-"


@dataclass
class ResetReport:
    """What the last reset did: ``mode`` "noop" or "restore", the areas it looked at, what it changed."""

    mode: str
    areas: tuple[str, ...] = ()
    actions: list[str] = field(default_factory=list)


class AwsReset(TestReset):
    def __init__(self, endpoint: Endpoint) -> None:
        self.name = endpoint.name
        self.url = endpoint.direct_url
        parts = urlsplit(self.url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._conn: http.client.HTTPConnection | None = None
        self._boot: str | None = None
        self.region = endpoint.attributes.get("region", "us-east-1")
        self._clients: list[Any] | None = None
        self.dirty = False
        self.last_report: ResetReport | None = None
        base = self._get("/_stackrig/baseline")
        self.account: str = base["account"]
        self.objects: dict[str, dict[str, dict[str, Any]]] = {b: v["objects"] for b, v in base["buckets"].items()}
        self.queues: dict[str, dict[str, str]] = {q: v["attributes"] for q, v in base["queues"].items()}
        self.topics: dict[str, dict[str, Any]] = dict(base["topics"])
        self.data: dict[tuple[str, str], bytes] = {}  # content of baseline objects that came from no file
        self._stamp: dict[str, int] = dict.fromkeys(AREAS, 0)  # the counters right after provisioning
        state = self._changes()
        if any(state[a] != 0 for a in AREAS):
            self._adopt()  # something ran since the server started: what exists now is the baseline
            self._stamp = state

    # -- the server's change counters ---------------------------------------------------------
    def _get(self, path: str) -> Any:
        for attempt in (0, 1):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self._host, self._port, timeout=10)
            try:
                self._conn.request("GET", path)
                response = self._conn.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException) as exc:
                self._conn.close()
                self._conn = None
                if attempt:
                    raise IsolationError(f"service '{self.name}': cannot read its state ({path}) at {self.url}: "
                                         f"{type(exc).__name__}: {exc}",
                                         hint="is the service running? see its log") from None
                continue
            if response.status != 200:
                raise IsolationError(f"service '{self.name}': {path} answered HTTP {response.status}: "
                                     f"{body[:200].decode(errors='replace')}")
            return json.loads(body)
        raise AssertionError("unreachable")

    def _changes(self) -> dict[str, int]:
        """The server's change counters (a server that restarted since the last look: all changed)."""
        state = self._get("/_stackrig/state")
        if self._boot is not None and state["boot"] != self._boot:
            self.dirty = True  # its counters start from 0 again: compare nothing, look at everything
        self._boot = state["boot"]
        return {a: int(v) for a, v in state["changes"].items()}

    @property
    def clients(self) -> list[Any]:
        if self._clients is None:
            self._clients = boto_clients(self.url, self.region, "s3", "sqs", "sns", internal=True, attempts=2)
        return self._clients

    # -- TestReset ---------------------------------------------------------------------------------
    def after(self, test_id: str) -> None:
        state = self._changes()
        areas = AREAS if self.dirty else tuple(a for a in AREAS if state[a] != self._stamp[a])
        if not areas:
            self.last_report = ResetReport("noop")
            return
        self.dirty = True
        report = ResetReport("restore", areas)
        for area in areas:
            try:
                getattr(self, f"_reset_{area}")(report.actions)
            except IsolationError:
                raise
            except Exception as exc:
                raise IsolationError(
                    f"service '{self.name}': could not put {area.upper()} back to its baseline after {test_id}: "
                    f"{type(exc).__name__}: {exc}",
                    hint="see the service's log; the next test is not run on this state") from exc
        self._stamp = state  # what changed while the reset ran is counted past `state`: the next check sees it
        self.dirty = False
        self.last_report = report

    def still_dirty(self) -> bool:
        return self.dirty

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        for client in self._clients or []:
            client.close()
        self._clients = None

    # -- SNS ------------------------------------------------------------------------------------------
    def _topic_arns(self) -> list[str]:
        sns = self.clients[2]
        return [t["TopicArn"] for page in sns.get_paginator("list_topics").paginate() for t in page.get("Topics", [])]

    def _subscriptions(self) -> list[dict[str, Any]]:
        sns = self.clients[2]
        return [s for page in sns.get_paginator("list_subscriptions").paginate()
                for s in page.get("Subscriptions", [])]

    def _reset_sns(self, actions: list[str]) -> None:
        sns = self.clients[2]
        arns = set(self._topic_arns())
        wanted = {t["arn"]: name for name, t in self.topics.items()}
        for arn in sorted(arns - set(wanted)):
            sns.delete_topic(TopicArn=arn)
            actions.append(f"deleted topic {arn}")
        for arn, name in wanted.items():
            topic = self.topics[name]
            if arn not in arns:
                attrs = {k: v for k, v in topic["attributes"].items()
                         if k in ("FifoTopic", "ContentBasedDeduplication")}
                sns.create_topic(Name=name, Attributes=attrs)
                actions.append(f"re-created topic {name}")
            now = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
            for key in _TOPIC_KEEP:
                if key in topic["attributes"] and now.get(key) != topic["attributes"][key]:
                    sns.set_topic_attributes(TopicArn=arn, AttributeName=key, AttributeValue=topic["attributes"][key])
                    actions.append(f"topic {name}: {key} set back")
        baseline = {(arn, s["protocol"], s["endpoint"]): s for arn, name in wanted.items()
                    for s in self.topics[name]["subscriptions"]}
        present: set[tuple[str, str, str]] = set()
        for sub in self._subscriptions():
            found = (sub["TopicArn"], sub["Protocol"], sub["Endpoint"])
            if found in baseline and found not in present:
                present.add(found)
                continue
            if sub["SubscriptionArn"].startswith("arn:"):
                sns.unsubscribe(SubscriptionArn=sub["SubscriptionArn"])
                actions.append(f"unsubscribed {sub['Endpoint']} from {sub['TopicArn']}")
        for wanted_sub, sub in baseline.items():
            if wanted_sub not in present:
                sns.subscribe(TopicArn=wanted_sub[0], Protocol=wanted_sub[1], Endpoint=wanted_sub[2],
                              Attributes=sub["attributes"], ReturnSubscriptionArn=True)
                actions.append(f"re-subscribed {wanted_sub[2]} to {wanted_sub[0]}")

    # -- SQS ------------------------------------------------------------------------------------------
    def _queue_urls(self) -> dict[str, str]:
        sqs = self.clients[1]
        urls = [u for page in sqs.get_paginator("list_queues").paginate() for u in page.get("QueueUrls", [])]
        return {u.rsplit("/", 1)[-1]: u for u in urls}

    def _queue_url(self, name: str) -> str:
        return f"{self.url}/{self.account}/{name}"

    def _reset_sqs(self, actions: list[str]) -> None:
        sqs = self.clients[1]
        present = self._queue_urls()
        for name in sorted(set(present) - set(self.queues)):
            sqs.delete_queue(QueueUrl=present[name])
            actions.append(f"deleted queue {name}")
        redrive: dict[str, str] = {}
        for name, attrs in self.queues.items():
            url = self._queue_url(name)
            if name not in present:
                create = {k: v for k, v in attrs.items() if k != "RedrivePolicy"}
                sqs.create_queue(QueueName=name, Attributes=create)
                actions.append(f"re-created queue {name}")
                if "RedrivePolicy" in attrs:
                    redrive[name] = attrs["RedrivePolicy"]
                continue
            now = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
            changed = {k: v for k, v in attrs.items() if now.get(k) != v}
            changed.update({k: "" for k in now if k not in attrs and k not in _VOLATILE_QUEUE
                            and k in ("RedrivePolicy", "RedriveAllowPolicy", "Policy")})
            changed.pop("FifoQueue", None)  # fixed at creation
            if changed:
                sqs.set_queue_attributes(QueueUrl=url, Attributes=changed)
                actions.append(f"queue {name}: {', '.join(sorted(changed))} set back")
            if any(int(now.get(k, "0") or 0) for k in _COUNTS):
                sqs.purge_queue(QueueUrl=url)
                actions.append(f"purged queue {name}")
        for name, policy in redrive.items():  # after every queue exists again
            sqs.set_queue_attributes(QueueUrl=self._queue_url(name), Attributes={"RedrivePolicy": policy})

    # -- S3 -------------------------------------------------------------------------------------------
    def _bucket_names(self) -> list[str]:
        return [b["Name"] for b in self.clients[0].list_buckets().get("Buckets", [])]

    def _listing(self, bucket: str) -> dict[str, dict[str, Any]]:
        s3 = self.clients[0]
        return {o["Key"]: {"etag": o["ETag"], "size": o["Size"]}
                for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
                for o in page.get("Contents", [])}

    def _delete_bucket(self, bucket: str) -> None:
        s3 = self.clients[0]
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            doomed = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                      for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
            for start in range(0, len(doomed), 1000):
                s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed[start:start + 1000], "Quiet": True})
        for upload in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
            s3.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
        s3.delete_bucket(Bucket=bucket)

    def _put_back(self, bucket: str, key: str, obj: dict[str, Any]) -> None:
        data = self.data.get((bucket, key))
        if data is None:
            with open(obj["source"], "rb") as f:
                data = f.read()
        self.clients[0].put_object(Bucket=bucket, Key=key, Body=data, ContentType=obj["content_type"])

    def _reset_s3(self, actions: list[str]) -> None:
        s3 = self.clients[0]
        present = set(self._bucket_names())
        for bucket in sorted(present - set(self.objects)):
            self._delete_bucket(bucket)
            actions.append(f"deleted bucket {bucket}")
        for bucket, objects in self.objects.items():
            if bucket not in present:
                if self.region == "us-east-1":
                    s3.create_bucket(Bucket=bucket)
                else:
                    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": self.region})
                actions.append(f"re-created bucket {bucket}")
                listing: dict[str, dict[str, Any]] = {}
            else:
                listing = self._listing(bucket)
            extra = sorted(set(listing) - set(objects))
            for start in range(0, len(extra), 1000):
                s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in extra[start:start + 1000]],
                                                         "Quiet": True})
            if extra:
                actions.append(f"bucket {bucket}: deleted {len(extra)} objects")
            restored = 0
            for key, obj in objects.items():
                now = listing.get(key)
                if now is None or now["etag"] != obj["etag"] or now["size"] != obj["size"]:
                    self._put_back(bucket, key, obj)
                    restored += 1
            if restored:
                actions.append(f"bucket {bucket}: put back {restored} objects")

    # -- a session that starts on a server something else already changed ----------------------------
    def _adopt(self) -> None:
        """Take what exists now as the baseline (the application created queues or objects at boot):
        it is kept, and put back as it is now."""
        s3, sqs, sns = self.clients
        for bucket in self._bucket_names():
            known = self.objects.setdefault(bucket, {})
            listing = self._listing(bucket)
            for key in [k for k in known if k not in listing]:
                del known[key]
            for key, obj in listing.items():
                if known.get(key, {}).get("etag") != obj["etag"]:
                    got = s3.get_object(Bucket=bucket, Key=key)
                    self.data[(bucket, key)] = got["Body"].read()
                    known[key] = {**obj, "source": None,
                                  "content_type": got.get("ContentType", "application/octet-stream")}
        for bucket in [b for b in self.objects if b not in self._bucket_names()]:
            del self.objects[bucket]
        urls = {n: u for n, u in self._queue_urls().items() if not n.startswith(_TAP_PREFIX)}
        self.queues = {}
        for name, url in urls.items():
            attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
            self.queues[name] = {k: v for k, v in attrs.items() if k not in _VOLATILE_QUEUE}
        topics: dict[str, dict[str, Any]] = {}
        for arn in self._topic_arns():
            attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
            keep = {k: v for k, v in attrs.items() if k in (*_TOPIC_KEEP, "FifoTopic", "ContentBasedDeduplication")}
            topics[arn.rsplit(":", 1)[-1]] = {"arn": arn, "attributes": keep, "subscriptions": []}
        by_arn = {t["arn"]: t for t in topics.values()}
        for sub in self._subscriptions():
            topic = by_arn.get(sub["TopicArn"])
            if topic is None or sub["Endpoint"].rsplit(":", 1)[-1].startswith(_TAP_PREFIX):
                continue
            attrs = sns.get_subscription_attributes(SubscriptionArn=sub["SubscriptionArn"])["Attributes"]
            topic["subscriptions"].append({"protocol": sub["Protocol"], "endpoint": sub["Endpoint"],
                                           "attributes": {k: v for k, v in attrs.items() if k in _SUB_KEEP}})
        self.topics = topics


def make_reset(spec: ServiceSpec, endpoint: Endpoint) -> TestReset | None:
    assert isinstance(spec, AwsSpec)
    if spec.isolation == "none":
        return None
    return AwsReset(endpoint)
