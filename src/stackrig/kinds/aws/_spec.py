"""The keys of `kind = "aws"` (docs/kinds/aws.md)."""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal

import msgspec

from ...config import ServerSpec, Spec, SpecError

__all__ = ["AwsSpec", "BucketSpec", "QueueSpec", "SubscriptionSpec", "TopicSpec", "ACCOUNT_ID", "ACCESS_KEY",
           "SECRET_KEY"]

ACCOUNT_ID = "123456789012"  # moto's default account
ACCESS_KEY = "test"  # dummies: moto accepts any credentials and checks no signature
SECRET_KEY = "test"

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_QUEUE = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_TOPIC = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")

Seconds = Annotated[int, msgspec.Meta(ge=0)]


def _check_fifo(kind: str, name: str, fifo: bool | None, pattern: re.Pattern[str], limit: int) -> bool:
    is_fifo = name.endswith(".fifo")
    stem = name[: -len(".fifo")] if is_fifo else name
    if not pattern.match(stem) or len(name) > limit:
        raise SpecError("name", f"{kind} name {name!r} is not valid: up to {limit} letters, digits, '-' and '_'"
                        + (" (and '.fifo' at the end for a FIFO one)" if kind != "bucket" else ""))
    if fifo is True and not is_fifo:
        raise SpecError("fifo", f"a FIFO {kind}'s name must end in '.fifo'; found {name!r} "
                        f"(name it {stem + '.fifo'!r})")
    if fifo is False and is_fifo:
        raise SpecError("fifo", f"{kind} {name!r} ends in '.fifo', which makes it a FIFO {kind}, but fifo = false")
    return is_fifo


class BucketSpec(Spec, kw_only=True):
    """An S3 bucket; ``from`` fills it from a folder (keys = paths relative to it)."""

    name: str
    from_: str | None = msgspec.field(default=None, name="from")

    def __post_init__(self) -> None:
        if not _BUCKET.match(self.name) or ".." in self.name:
            raise SpecError("name", f"bucket name {self.name!r} is not valid: 3 to 63 lowercase letters, digits, "
                            "'.' and '-', starting and ending with a letter or digit")
        if self.from_ is not None and not self.from_.strip():
            raise SpecError("from", "`from` names a folder (relative to the stack file); found an empty string")


class QueueSpec(Spec, kw_only=True):
    """An SQS queue (FIFO when its name ends in ``.fifo``)."""

    name: str
    fifo: bool | None = None
    content_based_deduplication: bool = False
    visibility_timeout: Annotated[int, msgspec.Meta(ge=0, le=43200)] | None = None
    delay: Annotated[int, msgspec.Meta(ge=0, le=900)] | None = None
    retention: Annotated[int, msgspec.Meta(ge=60, le=1209600)] | None = None
    receive_wait: Annotated[int, msgspec.Meta(ge=0, le=20)] | None = None
    dead_letter: str | None = None  # another queue of this service
    max_receives: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 5
    attributes: dict[str, str] = {}  # any other SQS attribute, as SQS names it

    def __post_init__(self) -> None:
        is_fifo = _check_fifo("queue", self.name, self.fifo, _QUEUE, 80)
        if self.content_based_deduplication and not is_fifo:
            raise SpecError("content_based_deduplication",
                            f"content_based_deduplication is for FIFO queues; {self.name!r} is a standard queue")
        if self.dead_letter == self.name:
            raise SpecError("dead_letter", f"queue {self.name!r} cannot be its own dead-letter queue")

    @property
    def is_fifo(self) -> bool:
        return self.name.endswith(".fifo")

    def sqs_attributes(self) -> dict[str, str]:
        """Every attribute but the redrive policy, as SQS names them."""
        out: dict[str, str] = {}
        if self.is_fifo:
            out["FifoQueue"] = "true"
            if self.content_based_deduplication:
                out["ContentBasedDeduplication"] = "true"
        for key, value in (("VisibilityTimeout", self.visibility_timeout), ("DelaySeconds", self.delay),
                           ("MessageRetentionPeriod", self.retention),
                           ("ReceiveMessageWaitTimeSeconds", self.receive_wait)):
            if value is not None:
                out[key] = str(value)
        out.update(self.attributes)
        return out


class SubscriptionSpec(Spec, kw_only=True):
    """A subscription of a topic: one of this service's queues."""

    queue: str
    raw: bool = False  # RawMessageDelivery: the message alone, not the SNS envelope
    filter_policy: dict[str, Any] | None = None
    filter_scope: Literal["MessageAttributes", "MessageBody"] = "MessageAttributes"

    def sns_attributes(self) -> dict[str, str]:
        import json

        out: dict[str, str] = {}
        if self.raw:
            out["RawMessageDelivery"] = "true"
        if self.filter_policy is not None:
            out["FilterPolicy"] = json.dumps(self.filter_policy)
            out["FilterPolicyScope"] = self.filter_scope
        return out


class TopicSpec(Spec, kw_only=True):
    """An SNS topic and its subscriptions to queues of the same service."""

    name: str
    fifo: bool | None = None
    content_based_deduplication: bool = False
    subscriptions: list[str | SubscriptionSpec] = []
    attributes: dict[str, str] = {}

    def __post_init__(self) -> None:
        is_fifo = _check_fifo("topic", self.name, self.fifo, _TOPIC, 256)
        if self.content_based_deduplication and not is_fifo:
            raise SpecError("content_based_deduplication",
                            f"content_based_deduplication is for FIFO topics; {self.name!r} is a standard topic")
        seen: set[str] = set()
        for sub in self.subscription_specs():
            if sub.queue in seen:
                raise SpecError("subscriptions", f"topic {self.name!r} subscribes queue {sub.queue!r} twice")
            seen.add(sub.queue)

    @property
    def is_fifo(self) -> bool:
        return self.name.endswith(".fifo")

    def subscription_specs(self) -> list[SubscriptionSpec]:
        return [SubscriptionSpec(queue=s) if isinstance(s, str) else s for s in self.subscriptions]

    def sns_attributes(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.is_fifo:
            out["FifoTopic"] = "true"
            if self.content_based_deduplication:
                out["ContentBasedDeduplication"] = "true"
        out.update(self.attributes)
        return out


class AwsSpec(ServerSpec, kw_only=True):
    """`kind = "aws"`: moto in server mode with the S3 buckets, SQS queues and SNS topics of the stack."""

    region: str = "us-east-1"
    buckets: list[str | BucketSpec] = []
    queues: list[str | QueueSpec] = []
    topics: list[str | TopicSpec] = []
    isolation: Literal["reset", "none"] = "reset"

    attributes: ClassVar[tuple[str, ...]] = ("host", "port", "url", "name", "region", "access_key", "secret_key",
                                             "account_id", "buckets", "queues", "topics")

    def __post_init__(self) -> None:
        super().__post_init__()
        if not _REGION.match(self.region):
            raise SpecError("region", f"region {self.region!r} is not an AWS region name such as 'us-east-1'")
        # a string entry is checked like a table entry (same messages)
        for key, items, model in (("buckets", self.buckets, BucketSpec), ("queues", self.queues, QueueSpec),
                                  ("topics", self.topics, TopicSpec)):
            seen: set[str] = set()
            for i, item in enumerate(items):
                name = item if isinstance(item, str) else item.name
                if isinstance(item, str):
                    try:
                        model(name=item)
                    except SpecError as exc:
                        raise SpecError(key, f"{key}[{i}]: {exc}") from None
                if name in seen:
                    raise SpecError(key, f"{key}[{i}]: {name!r} is declared twice")
                seen.add(name)
        queues = {q.name: q for q in self.queue_specs()}
        for i, q in enumerate(queues.values()):
            if q.dead_letter is None:
                continue
            dlq = queues.get(q.dead_letter)
            if dlq is None:
                raise SpecError("queues", f"queues[{i}] ({q.name!r}): dead_letter {q.dead_letter!r} is not a queue "
                                f"of this service; declared queues: {', '.join(queues) or 'none'}")
            if dlq.is_fifo != q.is_fifo:
                raise SpecError("queues", f"queues[{i}] ({q.name!r}): the dead-letter queue of a "
                                f"{'FIFO' if q.is_fifo else 'standard'} queue must be "
                                f"{'FIFO' if q.is_fifo else 'standard'} too; {q.dead_letter!r} is not")
        for i, t in enumerate(self.topic_specs()):
            for sub in t.subscription_specs():
                if sub.queue not in queues:
                    raise SpecError("topics", f"topics[{i}] ({t.name!r}): subscription to {sub.queue!r}, which is "
                                    f"not a queue of this service; declared queues: {', '.join(queues) or 'none'}")
                if queues[sub.queue].is_fifo and not t.is_fifo:
                    raise SpecError("topics", f"topics[{i}] ({t.name!r}): a standard topic cannot deliver to the "
                                    f"FIFO queue {sub.queue!r} (SNS refuses it); make the topic FIFO "
                                    f"({t.name + '.fifo'!r}) or subscribe a standard queue")

    def bucket_specs(self) -> list[BucketSpec]:
        return [BucketSpec(name=b) if isinstance(b, str) else b for b in self.buckets]

    def queue_specs(self) -> list[QueueSpec]:
        return [QueueSpec(name=q) if isinstance(q, str) else q for q in self.queues]

    def topic_specs(self) -> list[TopicSpec]:
        return [TopicSpec(name=t) if isinstance(t, str) else t for t in self.topics]
