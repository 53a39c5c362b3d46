"""The keys of `kind = "nats"`: the server, JetStream's declared streams and durable consumers.

Every mistake the server would refuse at start is refused here, at load time, naming the key.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, ClassVar, Literal

import msgspec

from ...config import Scalar, Seconds, ServerSpec, Spec, SpecError

__all__ = ["ConsumerSpec", "NatsSpec", "StreamSpec", "parse_size", "subjects_overlap"]

Count = Annotated[int, msgspec.Meta(ge=-1)]  # -1: unlimited (NATS's own convention)
Size = int | str  # bytes, or "64MB" (K, M, G, T: 1024-based, as nats-server reads them)

_NAME_BAD = re.compile(r"[.*>/\\\s]")
_SIZE = re.compile(r"^\s*(\d+)\s*([KMGT]?)(?:I?B)?\s*$", re.IGNORECASE)
_POWERS = {"": 0, "K": 1, "M": 2, "G": 3, "T": 4}

# set by stackrig from its own keys: refused in `config`
_OWN_CONFIG = {
    "host": "stackrig listens on 127.0.0.1", "listen": "stackrig listens on 127.0.0.1",
    "port": "use the `port` key (or let stackrig pick a free port)",
    "http": "the monitoring port is `monitor`", "http_port": "the monitoring port is `monitor`",
    "monitor_port": "the monitoring port is `monitor`", "https": "the monitoring port is `monitor`",
    "jetstream": "use `jetstream = true`", "store_dir": "JetStream's store is on the run's data folder",
    "authorization": "use `user`/`password` or `token`", "accounts": "a stackrig NATS server has one account",
    "max_payload": "use the `max_payload` key", "server_name": "the server is named after the service",
    "pid_file": "stackrig supervises the process", "log_file": "the log goes to the service's log (stackrig logs)",
    "cluster": "stackrig runs one server", "gateway": "stackrig runs one server",
    "leafnodes": "stackrig runs one server",
}


def parse_size(value: int | str, key: str) -> int:
    """Bytes from an integer or a size with a unit ("64MB", "1G")."""
    if isinstance(value, bool):
        raise SpecError(key, f"expected a size (bytes, or e.g. \"64MB\"), found {value!r}")
    if isinstance(value, int):
        if value < 1:
            raise SpecError(key, f"a size must be positive, found {value}")
        return value
    m = _SIZE.match(value)
    if not m:
        raise SpecError(key, f"size {value!r} is not valid; expected bytes (an integer) or e.g. \"512KB\", "
                             "\"64MB\", \"1G\"")
    size: int = int(m.group(1)) * 1024 ** _POWERS[m.group(2).upper()]
    return size


def _check_name(name: str, key: str, what: str) -> None:
    if not name:
        raise SpecError(key, f"{what} name must not be empty")
    if _NAME_BAD.search(name):
        raise SpecError(key, f"{what} name {name!r} must not contain '.', '*', '>', '/', '\\' or whitespace")


def _subject_problem(subject: str) -> str | None:
    if not subject or any(c.isspace() for c in subject):
        return "it is empty or contains whitespace"
    tokens = subject.split(".")
    if any(t == "" for t in tokens):
        return "it has an empty token (a leading, trailing or doubled '.')"
    if any(t == ">" for t in tokens[:-1]):
        return "'>' may only be the last token"
    if any(len(t) > 1 and ("*" in t or ">" in t) for t in tokens):
        return "a wildcard must be a whole token"
    return None


def _check_subject(subject: str, key: str) -> None:
    problem = _subject_problem(subject)
    if problem:
        raise SpecError(key, f"subject {subject!r} is not valid: {problem}")


def subjects_overlap(a: str, b: str) -> bool:
    """Whether some subject matches both patterns (NATS wildcards)."""
    ta, tb = a.split("."), b.split(".")
    for i in range(max(len(ta), len(tb))):
        x = ta[i] if i < len(ta) else None
        y = tb[i] if i < len(tb) else None
        if x == ">" or y == ">":
            return x is not None and y is not None
        if x is None or y is None:
            return False
        if x != y and x != "*" and y != "*":
            return False
    return True


def _subset(filter_subject: str, subjects: list[str]) -> bool:
    """Whether every subject `filter_subject` matches is one of `subjects` (filter within the stream)."""
    f = filter_subject.split(".")
    for s in subjects:
        p = s.split(".")
        ok = True
        for i, token in enumerate(p):
            if token == ">":
                ok = len(f) > i
                break
            if i >= len(f) or (token != "*" and token != f[i]) or (token != ">" and f[i] == ">"):
                ok = False
                break
        else:
            ok = len(f) == len(p)
        if ok:
            return True
    return False


class StreamSpec(Spec, kw_only=True):
    """One declared stream (created when the server is ready; kept, and purged, after each test)."""

    name: str
    subjects: list[str] = []  # default: the stream's name
    description: str | None = None
    retention: Literal["limits", "interest", "workqueue"] = "limits"
    storage: Literal["file", "memory"] = "file"  # file: on the run's tmpfs data folder
    max_msgs: Count = -1
    max_bytes: Size | None = None
    max_age: Seconds | None = None  # seconds
    max_msg_size: Size | None = None
    max_msgs_per_subject: Count = -1
    max_consumers: Count = -1
    discard: Literal["old", "new"] = "old"
    duplicate_window: Seconds | None = None  # seconds (server default: 120)
    allow_rollup: bool = False
    deny_delete: bool = False
    allow_direct: bool = False
    no_ack: bool = False

    def __post_init__(self) -> None:
        _check_name(self.name, "name", "stream")
        for i, subject in enumerate(self.subjects):
            _check_subject(subject, f"subjects.{i}")
        if len(set(self.subjects)) != len(self.subjects):
            raise SpecError("subjects", f"stream '{self.name}' lists a subject twice: {self.subjects}")
        for key in ("max_bytes", "max_msg_size"):
            value = getattr(self, key)
            if value is not None:
                parse_size(value, key)

    @property
    def effective_subjects(self) -> list[str]:
        return list(self.subjects) or [self.name]


class ConsumerSpec(Spec, kw_only=True):
    """One declared durable consumer of a declared stream (pull unless `deliver_subject` is set)."""

    stream: str
    durable: str
    description: str | None = None
    filter_subject: str | None = None
    deliver_policy: Literal["all", "last", "new", "last_per_subject", "by_start_sequence", "by_start_time"] = "all"
    opt_start_seq: Annotated[int, msgspec.Meta(ge=1)] | None = None
    opt_start_time: datetime | None = None
    ack_policy: Literal["explicit", "all", "none"] = "explicit"
    ack_wait: Seconds | None = None  # seconds (server default: 30)
    max_deliver: Count | None = None
    max_ack_pending: Count | None = None
    max_waiting: Annotated[int, msgspec.Meta(ge=1)] | None = None  # pull consumers
    replay_policy: Literal["instant", "original"] = "instant"
    deliver_subject: str | None = None  # a push consumer delivers there
    deliver_group: str | None = None  # push: the queue group that shares the deliveries
    headers_only: bool = False
    backoff: list[Seconds] = []  # seconds between redeliveries

    def __post_init__(self) -> None:
        _check_name(self.durable, "durable", "consumer")
        if self.filter_subject is not None:
            _check_subject(self.filter_subject, "filter_subject")
        if self.deliver_policy == "by_start_sequence" and self.opt_start_seq is None:
            raise SpecError("opt_start_seq", 'deliver_policy = "by_start_sequence" needs `opt_start_seq = N`')
        if self.opt_start_seq is not None and self.deliver_policy != "by_start_sequence":
            raise SpecError("opt_start_seq", 'opt_start_seq is only for deliver_policy = "by_start_sequence"')
        if self.deliver_policy == "by_start_time" and self.opt_start_time is None:
            raise SpecError("opt_start_time", 'deliver_policy = "by_start_time" needs `opt_start_time = '
                                              '2024-01-01T00:00:00Z`')
        if self.opt_start_time is not None and self.deliver_policy != "by_start_time":
            raise SpecError("opt_start_time", 'opt_start_time is only for deliver_policy = "by_start_time"')
        if self.opt_start_time is not None and self.opt_start_time.tzinfo is None:
            raise SpecError("opt_start_time", "opt_start_time needs a time zone (e.g. 2024-01-01T00:00:00Z)")
        if self.deliver_subject is not None:
            problem = _subject_problem(self.deliver_subject)
            if problem is None and ("*" in self.deliver_subject.split(".") or self.deliver_subject.endswith(">")):
                problem = "a push consumer delivers to one subject, without wildcards"
            if problem:
                raise SpecError("deliver_subject", f"deliver_subject {self.deliver_subject!r} is not valid: {problem}")
            if self.max_waiting is not None:
                raise SpecError("max_waiting", "max_waiting is for pull consumers; this one has a deliver_subject")
        elif self.deliver_group is not None:
            raise SpecError("deliver_group", "deliver_group needs a deliver_subject (it is for push consumers)")
        if self.backoff:
            if self.max_deliver is None or self.max_deliver == -1 or self.max_deliver <= len(self.backoff):
                raise SpecError("max_deliver", f"with {len(self.backoff)} backoff values, max_deliver must be "
                                               f"greater than {len(self.backoff)}")
        if self.ack_policy == "none" and self.backoff:
            raise SpecError("backoff", 'backoff needs acks: it cannot be used with ack_policy = "none"')


class NatsSpec(ServerSpec, kw_only=True):
    jetstream: bool = False
    streams: list[StreamSpec] = []
    consumers: list[ConsumerSpec] = []
    monitor: bool = True  # the monitoring HTTP port (${monitor_url})
    user: str | None = None
    password: str | None = None
    token: str | None = None
    max_payload: Size | None = None
    max_memory: Size | None = None  # JetStream's memory store limit
    max_store: Size | None = None  # JetStream's file store limit
    config: dict[str, Scalar] = {}  # more top-level nats-server settings
    isolation: Literal["purge", "none"] = "purge"
    reset_timeout: Seconds = 5.0

    attributes: ClassVar[tuple[str, ...]] = (
        "host", "port", "url", "name", "direct_url", "monitor_url", "monitor_port", "user", "password", "token",
        "jetstream", "store_dir", "streams")

    def __post_init__(self) -> None:
        super().__post_init__()
        if (self.user is None) != (self.password is None):
            given, missing = ("user", "password") if self.password is None else ("password", "user")
            raise SpecError(given, f"`user` and `password` go together: `{given}` is set, add `{missing} = \"...\"`")
        if self.token is not None and self.user is not None:
            raise SpecError("token", "use either `token` or `user`/`password`, not both")
        for key in ("user", "password", "token"):
            value = getattr(self, key)
            if value is not None and (not value or any(c.isspace() or c in "\"'\\" for c in value)):
                raise SpecError(key, f"{key} must be non-empty, without whitespace, quotes or backslashes")
        for key in ("max_payload", "max_memory", "max_store"):
            value = getattr(self, key)
            if value is not None:
                size = parse_size(value, key)
                if key == "max_payload" and size > 64 * 1024 * 1024:
                    raise SpecError(key, f"max_payload {value!r} is above NATS's limit of 64MB")
        for key in self.config:
            if key in _OWN_CONFIG:
                raise SpecError("config", f"config key `{key}` is set by stackrig: {_OWN_CONFIG[key]}")
        if not self.jetstream:
            for key in ("streams", "consumers", "max_memory", "max_store"):
                if getattr(self, key):
                    raise SpecError(key, f"`{key}` needs JetStream: add `jetstream = true`")
        self._check_streams()

    def _check_streams(self) -> None:
        seen: dict[str, StreamSpec] = {}
        for i, stream in enumerate(self.streams):
            if stream.name in seen:
                raise SpecError("streams", f"streams[{i}]: stream '{stream.name}' is declared twice")
            for other in seen.values():
                for a in stream.effective_subjects:
                    for b in other.effective_subjects:
                        if subjects_overlap(a, b):
                            raise SpecError("streams", f"streams[{i}]: subject {a!r} of stream '{stream.name}' "
                                                       f"overlaps {b!r} of stream '{other.name}' (a message may be "
                                                       "stored by one stream only)")
            seen[stream.name] = stream
        durables: set[tuple[str, str]] = set()
        for i, consumer in enumerate(self.consumers):
            where = f"consumers[{i}] (durable '{consumer.durable}')"
            found = seen.get(consumer.stream)
            if found is None:
                declared = ", ".join(seen) or "none"
                raise SpecError("consumers", f"{where}: stream '{consumer.stream}' is not declared in `streams` "
                                             f"(declared: {declared})")
            if (consumer.stream, consumer.durable) in durables:
                raise SpecError("consumers", f"{where}: stream '{consumer.stream}' has two consumers with that name")
            durables.add((consumer.stream, consumer.durable))
            stream = found
            if consumer.filter_subject is not None and not _subset(consumer.filter_subject,
                                                                   stream.effective_subjects):
                raise SpecError("consumers", f"{where}: filter_subject {consumer.filter_subject!r} is not within the "
                                             f"subjects of stream '{stream.name}' "
                                             f"({', '.join(stream.effective_subjects)})")
