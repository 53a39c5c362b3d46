"""What `rig` hands tests for an aws service: taps on SNS topics, publishing, and SQS queues.

* ``rig.events("aws", "order-events")``: the tap subscribes a queue of its own to the topic (a
  copy: the application's subscriptions still get every message) and long-polls it in a thread;
  the SNS envelope is unwrapped (``subject`` = the topic's name, ``headers`` = the message
  attributes, ``meta`` = message id, topic ARN, SNS subject).  A plain SQS queue cannot be tapped
  without taking messages away from its consumers: tapping one raises and points at
  ``rig.queue``.
* ``rig.publish("aws", "order-events", body)`` publishes to a topic;
  ``rig.publish("aws", "jobs", body, queue=True)`` sends to a queue.
* ``rig.queue("aws", "jobs")``: ``peek``, ``receive``, ``purge``, ``len()``.

Every connection is the test's own, on the endpoint's direct URL (never through the fault
proxy), so all of this works when the test process only attached to ``stackrig up -d``.
"""

from __future__ import annotations

import fnmatch
import json
import threading
import time
import uuid
from collections.abc import Mapping
from typing import Any

from ...errors import StackrigError
from ...events import Event, Tap, encode_body, glob, options_limit
from ...services import Endpoint
from ._spec import ACCESS_KEY, ACCOUNT_ID, SECRET_KEY

__all__ = ["AwsEvents", "AwsQueues", "SqsQueue", "boto_clients", "connect_events", "connect_queues"]

_TAP_OPTIONS = ("limit",)
_PUBLISH_OPTIONS = ("queue", "sns_subject", "group_id", "dedup_id", "delay")
POLL_SECONDS = 1  # a tap's long poll: how long a closed tap's thread may linger


def boto_clients(url: str, region: str, *names: str, internal: bool = False, attempts: int = 3) -> list[Any]:
    """boto3 clients on `url` with the dummy credentials; `internal` marks the requests so moto's
    change counter (the per-test reset's noop check) does not count them."""
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise StackrigError("the aws kind's taps, queues and per-test reset need boto3",
                            hint="pip install boto3 (or 'stackrig[brokers]')") from None
    session = boto3.session.Session(aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                                    region_name=region)
    config = Config(retries={"max_attempts": attempts, "mode": "standard"}, s3={"addressing_style": "path"},
                    connect_timeout=5, read_timeout=POLL_SECONDS + 30)
    made = []
    for name in names:
        client = session.client(name, endpoint_url=url, config=config)
        if internal:
            client.meta.events.register("before-send", _mark_internal)
        made.append(client)
    return made


def _mark_internal(request: Any, **_: Any) -> None:
    request.headers["X-Stackrig-Internal"] = "1"


def _mark_purge(request: Any, **_: Any) -> None:
    request.headers["X-Stackrig-Purge"] = "1"


def _error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def _topic_name(arn: str) -> str:
    return arn.rsplit(":", 1)[-1]


def _headers(attributes: Mapping[str, Any], sns: bool) -> dict[str, str]:
    """Message attributes as headers (SNS envelope: Type/Value; SQS: StringValue/BinaryValue)."""
    out: dict[str, str] = {}
    for key, value in attributes.items():
        if sns:
            out[key] = str(value.get("Value", ""))
        else:
            raw = value.get("StringValue")
            if raw is None and value.get("BinaryValue") is not None:
                raw = value["BinaryValue"].decode("utf-8", errors="replace")
            out[key] = str(raw if raw is not None else "")
    lowered = {k.lower() for k in out}
    if "content-type" not in lowered:
        for alias in ("ContentType", "contentType", "content_type"):
            if alias in out:
                out["content-type"] = out[alias]
                break
    return out


def sqs_event(queue: str, message: Mapping[str, Any]) -> Event:
    """One SQS message as an Event: an SNS envelope is unwrapped (the body is the message)."""
    body = message.get("Body", "")
    attrs = message.get("Attributes", {})
    meta: dict[str, Any] = {"queue": queue, "message_id": message.get("MessageId"),
                            "receive_count": int(attrs.get("ApproximateReceiveCount", "0") or 0),
                            "group_id": attrs.get("MessageGroupId"), "sqs_body": body}
    headers = _headers(message.get("MessageAttributes", {}), sns=False)
    envelope = _envelope(body)
    if envelope is not None:
        headers = {**headers, **_headers(envelope.get("MessageAttributes", {}), sns=True)}
        meta.update(topic_arn=envelope["TopicArn"], sns_message_id=envelope.get("MessageId"),
                    sns_subject=envelope.get("Subject"))
        return Event(queue, str(envelope.get("Message", "")).encode(), headers, meta=meta)
    return Event(queue, body.encode(), headers, meta=meta)


def _envelope(body: str) -> dict[str, Any] | None:
    if not body.startswith("{") or '"TopicArn"' not in body:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if isinstance(data, dict) and data.get("Type") == "Notification" and "TopicArn" in data:
        return data
    return None


class _Subscription:
    """One tap's queue(s), subscribed to the matched topics, and the thread that drains them."""

    def __init__(self, owner: AwsEvents, tap: Tap, topics: dict[str, str]) -> None:
        self.owner = owner
        self.tap = tap
        self.stop = threading.Event()
        self.queues: list[str] = []  # queue URLs
        self.subscriptions: list[str] = []
        self.threads: list[threading.Thread] = []
        sqs, sns = owner.sqs, owner.sns
        token = uuid.uuid4().hex[:12]
        groups: dict[bool, list[str]] = {}
        for name, arn in topics.items():
            groups.setdefault(name.endswith(".fifo"), []).append(arn)
        try:
            for fifo, arns in groups.items():
                qname = f"stackrig-tap-{token}" + (".fifo" if fifo else "")
                attrs = {"FifoQueue": "true", "ContentBasedDeduplication": "true"} if fifo else {}
                url = sqs.create_queue(QueueName=qname, Attributes=attrs)["QueueUrl"]
                self.queues.append(url)
                for arn in arns:
                    sub = sns.subscribe(TopicArn=arn, Protocol="sqs", ReturnSubscriptionArn=True,
                                        Endpoint=f"arn:aws:sqs:{owner.region}:{owner.account}:{qname}")
                    self.subscriptions.append(sub["SubscriptionArn"])
        except Exception:
            self.close()
            raise
        for url in self.queues:
            # a client per thread: the poller's long polls never hold up the test's own calls
            (poller,) = boto_clients(owner.url, owner.region, "sqs", attempts=5)
            thread = threading.Thread(target=self._drain, args=(poller, url), daemon=True,
                                      name=f"stackrig-tap-{owner.name}-{tap.pattern}")
            thread.start()
            self.threads.append(thread)

    def _drain(self, sqs: Any, url: str) -> None:
        try:
            while not self.stop.is_set():
                got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=POLL_SECONDS,
                                          MessageAttributeNames=["All"], AttributeNames=["All"])
                messages = got.get("Messages", [])
                if not messages:
                    continue
                for m in messages:
                    self.tap.feed(self._event(m))
                sqs.delete_message_batch(QueueUrl=url, Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])
        except Exception as exc:  # noqa: BLE001 - the test hears it from its next wait
            if not self.stop.is_set():
                self.tap.fail(exc)
        finally:
            sqs.close()

    def _event(self, message: Mapping[str, Any]) -> Event:
        body = message.get("Body", "")
        envelope = _envelope(body)
        if envelope is None:  # not from SNS (someone sent to the tap's own queue): as it came
            return sqs_event(self.tap.pattern, message)
        meta: dict[str, Any] = {"message_id": envelope.get("MessageId"), "topic_arn": envelope["TopicArn"],
                                "sns_subject": envelope.get("Subject"), "sns_timestamp": envelope.get("Timestamp")}
        group = message.get("Attributes", {}).get("MessageGroupId")
        if group:
            meta["group_id"] = group
        return Event(_topic_name(envelope["TopicArn"]), str(envelope.get("Message", "")).encode(),
                     _headers(envelope.get("MessageAttributes", {}), sns=True), meta=meta)

    def close(self) -> None:
        self.stop.set()
        errors: list[str] = []
        for arn in self.subscriptions:
            try:
                self.owner.sns.unsubscribe(SubscriptionArn=arn)
            except Exception as exc:  # noqa: BLE001 - collected and raised below
                if _error_code(exc) != "NotFound":  # gone already (the server restarted)
                    errors.append(f"unsubscribe {arn}: {exc}")
        for url in self.queues:
            try:
                self.owner.sqs.delete_queue(QueueUrl=url)
            except Exception as exc:  # noqa: BLE001 - collected and raised below
                if _error_code(exc) not in ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"):
                    errors.append(f"delete queue {url}: {exc}")
        self.subscriptions, self.queues = [], []
        if errors:
            raise StackrigError(f"closing the tap on '{self.owner.name}' ({self.tap.pattern}) left things behind: "
                                + "; ".join(errors), hint="the per-test reset removes them")


class AwsEvents:
    """The ``"events"`` capability: taps on SNS topics and publishing to topics and queues."""

    def __init__(self, endpoint: Endpoint) -> None:
        attrs = endpoint.attributes
        self.name = endpoint.name
        self.url = endpoint.direct_url
        self.region = attrs.get("region", "us-east-1")
        self.account = attrs.get("account_id", ACCOUNT_ID)
        self.sns, self.sqs = boto_clients(self.url, self.region, "sns", "sqs")
        self._open: list[_Subscription] = []

    # -- lookups -----------------------------------------------------------------------------
    def topics(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for page in self.sns.get_paginator("list_topics").paginate():
            for topic in page.get("Topics", []):
                found[_topic_name(topic["TopicArn"])] = topic["TopicArn"]
        return found

    def queue_names(self) -> list[str]:
        names: list[str] = []
        for page in self.sqs.get_paginator("list_queues").paginate():
            names += [u.rsplit("/", 1)[-1] for u in page.get("QueueUrls", [])]
        return [n for n in names if not n.startswith("stackrig-tap-")]

    # -- taps ----------------------------------------------------------------------------------
    def tap(self, pattern: str, **options: Any) -> Tap:
        unknown = sorted(set(options) - set(_TAP_OPTIONS))
        if unknown:
            raise StackrigError(f"rig.events({self.name!r}, {pattern!r}): unknown option(s) {', '.join(unknown)} "
                                f"for an aws service; options: {', '.join(_TAP_OPTIONS)}")
        limit = options_limit(options)
        topics = self.topics()
        if pattern.startswith("arn:aws:sns:"):
            matched = {n: a for n, a in topics.items() if a == pattern}
        elif any(c in pattern for c in "*?["):
            matched = {n: a for n, a in topics.items() if fnmatch.fnmatchcase(n, pattern)}
        else:
            matched = {pattern: topics[pattern]} if pattern in topics else {}
        if not matched:
            queues = self.queue_names()
            if pattern in queues or any(fnmatch.fnmatchcase(q, pattern) for q in queues):
                raise StackrigError(
                    f"rig.events({self.name!r}, {pattern!r}): {pattern!r} is an SQS queue, and a tap cannot copy "
                    "from a queue: every message it received would be taken away from the queue's consumers "
                    "(SQS has no fan-out on a queue)",
                    hint=f"use rig.queue({self.name!r}, {pattern!r}).peek() to look at what waits without "
                         "consuming it, or .receive() to consume as the application would; to see messages as "
                         "they are published, tap the SNS topic that feeds the queue")
            raise StackrigError(
                f"rig.events({self.name!r}, {pattern!r}): no SNS topic matches {pattern!r} on service "
                f"'{self.name}'; topics: {', '.join(sorted(topics)) or 'none'}",
                hint="a tap's pattern is a topic's name, a glob over topic names (orders-*) or a topic ARN; "
                     "declare the topic in the stack file (topics = [...]) or create it before tapping")
        made: list[_Subscription] = []

        def on_close() -> None:
            for sub in made:
                if sub in self._open:
                    self._open.remove(sub)
                sub.close()

        tap = Tap(self.name, pattern, subject_matches=glob, limit=limit, on_close=on_close,
                  where=f"SNS topic{'s' if len(matched) > 1 else ''} {', '.join(sorted(matched))}")
        made.append(_Subscription(self, tap, matched))
        self._open.append(made[0])
        return tap

    # -- publishing ----------------------------------------------------------------------------
    def publish(self, subject: str, body: Any, headers: Mapping[str, str] | None = None, **options: Any) -> None:
        unknown = sorted(set(options) - set(_PUBLISH_OPTIONS))
        if unknown:
            raise StackrigError(f"rig.publish({self.name!r}, {subject!r}): unknown option(s) {', '.join(unknown)}; "
                                f"options: {', '.join(_PUBLISH_OPTIONS)} (queue=True sends to an SQS queue)")
        raw, content_type = encode_body(body)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise StackrigError(f"rig.publish({self.name!r}, {subject!r}): SNS and SQS messages are text, and "
                                "this body is not UTF-8", hint="base64-encode binary data") from None
        attributes = {k: {"DataType": "String", "StringValue": str(v)} for k, v in (headers or {}).items()}
        if not any(k.lower() == "content-type" for k in attributes):
            attributes["content-type"] = {"DataType": "String", "StringValue": content_type}
        if options.get("queue"):
            self._send(subject, text, attributes, options)
        else:
            self._publish(subject, text, attributes, options)

    def _send(self, queue: str, text: str, attributes: dict[str, Any], options: Mapping[str, Any]) -> None:
        kwargs: dict[str, Any] = {"QueueUrl": f"{self.url}/{self.account}/{queue}", "MessageBody": text,
                                  "MessageAttributes": attributes}
        if queue.endswith(".fifo"):
            kwargs["MessageGroupId"] = str(options.get("group_id") or "stackrig")
            kwargs["MessageDeduplicationId"] = str(options.get("dedup_id") or uuid.uuid4().hex)
        elif options.get("delay") is not None:
            kwargs["DelaySeconds"] = int(options["delay"])
        try:
            self.sqs.send_message(**kwargs)
        except Exception as exc:
            if "NonExistentQueue" in _error_code(exc) or "QueueDoesNotExist" in _error_code(exc):
                raise StackrigError(f"rig.publish({self.name!r}, {queue!r}, queue=True): no SQS queue {queue!r} "
                                    f"on service '{self.name}'; queues: {', '.join(self.queue_names()) or 'none'}",
                                    hint="declare it in the stack file (queues = [...])") from None
            raise

    def _publish(self, topic: str, text: str, attributes: dict[str, Any], options: Mapping[str, Any]) -> None:
        arn = topic if topic.startswith("arn:") else f"arn:aws:sns:{self.region}:{self.account}:{topic}"
        kwargs: dict[str, Any] = {"TopicArn": arn, "Message": text, "MessageAttributes": attributes}
        if options.get("sns_subject"):
            kwargs["Subject"] = str(options["sns_subject"])
        if arn.endswith(".fifo"):
            kwargs["MessageGroupId"] = str(options.get("group_id") or "stackrig")
            kwargs["MessageDeduplicationId"] = str(options.get("dedup_id") or uuid.uuid4().hex)
        try:
            self.sns.publish(**kwargs)
        except Exception as exc:
            if _error_code(exc) == "NotFound":
                queues = self.queue_names()
                also = (f"; {topic!r} is an SQS queue: pass queue=True to send to it" if topic in queues else "")
                raise StackrigError(f"rig.publish({self.name!r}, {topic!r}): no SNS topic {topic!r} on service "
                                    f"'{self.name}'; topics: {', '.join(sorted(self.topics())) or 'none'}{also}",
                                    hint=f"rig.publish({self.name!r}, {topic!r}, body, queue=True) sends to a queue"
                                    if also else "declare it in the stack file (topics = [...])") from None
            raise

    def close(self) -> None:
        problems: list[str] = []
        for sub in list(self._open):
            try:
                sub.close()
            except StackrigError as exc:
                problems.append(str(exc))
        self._open.clear()
        self.sns.close()
        self.sqs.close()
        if problems:
            raise StackrigError("; ".join(problems))


class SqsQueue:
    """One SQS queue, from the test's side: look (``peek``), consume (``receive``), ``purge``, ``len``."""

    def __init__(self, owner: AwsQueues, name: str, url: str) -> None:
        self.owner = owner
        self.name = name
        self.url = url

    def peek(self, limit: int = 10) -> list[Event]:
        """Up to `limit` waiting messages, left on the queue: they are received with a short
        visibility timeout and made visible again at once.  Their receive count goes up by one
        (with a redrive policy, peeking counts towards ``max_receives``)."""
        sqs = self.owner.sqs
        events: list[Event] = []
        handles: list[str] = []
        try:
            while len(events) < limit:
                got = sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=min(10, limit - len(events)),
                                          VisibilityTimeout=30, WaitTimeSeconds=0, AttributeNames=["All"],
                                          MessageAttributeNames=["All"]).get("Messages", [])
                if not got:
                    break
                for m in got:
                    events.append(sqs_event(self.name, m))
                    handles.append(m["ReceiptHandle"])
        finally:
            for start in range(0, len(handles), 10):
                sqs.change_message_visibility_batch(QueueUrl=self.url, Entries=[
                    {"Id": str(i), "ReceiptHandle": h, "VisibilityTimeout": 0}
                    for i, h in enumerate(handles[start:start + 10])])
        return events

    def receive(self, limit: int = 1, wait: float = 0.0) -> list[Event]:
        """Take up to `limit` messages off the queue (deleted), waiting up to `wait` seconds for
        the first ones: the test acting as the queue's consumer."""
        sqs = self.owner.sqs
        events: list[Event] = []
        deadline = time.monotonic() + wait
        while len(events) < limit:
            left = deadline - time.monotonic()
            got = sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=min(10, limit - len(events)),
                                      WaitTimeSeconds=min(20, int(left)) if left >= 1 else 0,
                                      AttributeNames=["All"], MessageAttributeNames=["All"]).get("Messages", [])
            if got:
                events += [sqs_event(self.name, m) for m in got]
                sqs.delete_message_batch(QueueUrl=self.url, Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)])
                continue
            if events or deadline - time.monotonic() <= 0:
                break
            time.sleep(min(0.02, max(0.0, deadline - time.monotonic())))
        return events

    def purge(self) -> None:
        """Delete every message, in flight ones too (SQS PurgeQueue)."""
        self.owner.sqs.purge_queue(QueueUrl=self.url)

    def __len__(self) -> int:
        """Messages waiting (ApproximateNumberOfMessages: visible ones, not in flight or delayed)."""
        attrs = self.owner.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["ApproximateNumberOfMessages"])
        return int(attrs["Attributes"]["ApproximateNumberOfMessages"])

    def close(self) -> None:
        """Nothing to close: the queues capability owns the connection."""

    def __repr__(self) -> str:
        return f"<SQS queue {self.name!r} of '{self.owner.name}'>"


class AwsQueues:
    """The ``"queues"`` capability: ``rig.queue("aws", "jobs")``."""

    def __init__(self, endpoint: Endpoint) -> None:
        attrs = endpoint.attributes
        self.name = endpoint.name
        self.url = endpoint.direct_url
        self.region = attrs.get("region", "us-east-1")
        self.account = attrs.get("account_id", ACCOUNT_ID)
        (self.sqs,) = boto_clients(self.url, self.region, "sqs")
        self.sqs.meta.events.register("before-send.sqs.PurgeQueue", _mark_purge)

    def queue(self, name: str) -> SqsQueue:
        url = f"{self.url}/{self.account}/{name}"
        try:
            self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        except Exception as exc:
            code = _error_code(exc)
            if "NonExistentQueue" not in code and "QueueDoesNotExist" not in code:
                raise
            names: list[str] = []
            for page in self.sqs.get_paginator("list_queues").paginate():
                names += [u.rsplit("/", 1)[-1] for u in page.get("QueueUrls", [])]
            names = [n for n in names if not n.startswith("stackrig-tap-")]
            raise StackrigError(f"rig.queue({self.name!r}, {name!r}): no SQS queue {name!r} on service "
                                f"'{self.name}'; queues: {', '.join(names) or 'none'}",
                                hint=f"for an SNS topic use rig.events({self.name!r}, {name!r})") from None
        return SqsQueue(self, name, url)

    def close(self) -> None:
        self.sqs.close()


def connect_events(endpoint: Endpoint) -> AwsEvents:
    return AwsEvents(endpoint)


def connect_queues(endpoint: Endpoint) -> AwsQueues:
    return AwsQueues(endpoint)
