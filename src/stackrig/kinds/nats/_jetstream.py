"""JetStream's API, as the declared streams and the per-test reset use it (over a :class:`Wire`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ...errors import StackrigError
from ._spec import ConsumerSpec, StreamSpec, parse_size
from ._wire import Wire

__all__ = ["JetStreamError", "JetStreamAdmin", "consumer_config", "stream_config"]

_NS = 1_000_000_000
STREAM_NAME_IN_USE = 10058  # JetStream's err_code: a stream of that name exists with another config


class JetStreamError(StackrigError):
    """JetStream answered an API request with an error."""

    def __init__(self, message: str, *, code: int | None = None, err_code: int | None = None,
                 hint: str | None = None) -> None:
        self.code = code
        self.err_code = err_code
        super().__init__(message, hint=hint)


def stream_config(spec: StreamSpec) -> dict[str, Any]:
    """The JSON a `$JS.API.STREAM.CREATE` takes for a declared stream (defaults left to the server)."""
    config: dict[str, Any] = {"name": spec.name, "subjects": spec.effective_subjects, "retention": spec.retention,
                              "storage": spec.storage, "discard": spec.discard, "num_replicas": 1,
                              "max_msgs": spec.max_msgs, "max_msgs_per_subject": spec.max_msgs_per_subject,
                              "max_consumers": spec.max_consumers}
    if spec.description is not None:
        config["description"] = spec.description
    if spec.max_bytes is not None:
        config["max_bytes"] = parse_size(spec.max_bytes, "max_bytes")
    if spec.max_msg_size is not None:
        config["max_msg_size"] = parse_size(spec.max_msg_size, "max_msg_size")
    if spec.max_age is not None:
        config["max_age"] = int(spec.max_age * _NS)
    if spec.duplicate_window is not None:
        config["duplicate_window"] = int(spec.duplicate_window * _NS)
    for key, flag in (("allow_rollup_hdrs", spec.allow_rollup), ("deny_delete", spec.deny_delete),
                      ("allow_direct", spec.allow_direct), ("no_ack", spec.no_ack)):
        if flag:
            config[key] = True
    return config


def consumer_config(spec: ConsumerSpec) -> dict[str, Any]:
    """The JSON config of a declared durable consumer."""
    config: dict[str, Any] = {"durable_name": spec.durable, "deliver_policy": spec.deliver_policy,
                              "ack_policy": spec.ack_policy, "replay_policy": spec.replay_policy}
    optional: dict[str, Any] = {
        "description": spec.description, "filter_subject": spec.filter_subject, "opt_start_seq": spec.opt_start_seq,
        "max_deliver": spec.max_deliver, "max_ack_pending": spec.max_ack_pending, "max_waiting": spec.max_waiting,
        "deliver_subject": spec.deliver_subject, "deliver_group": spec.deliver_group,
    }
    config.update({k: v for k, v in optional.items() if v is not None})
    if spec.opt_start_time is not None:
        config["opt_start_time"] = spec.opt_start_time.isoformat().replace("+00:00", "Z")
    if spec.ack_wait is not None:
        config["ack_wait"] = int(spec.ack_wait * _NS)
    if spec.backoff:
        config["backoff"] = [int(s * _NS) for s in spec.backoff]
    if spec.headers_only:
        config["headers_only"] = True
    return config


class JetStreamAdmin:
    """JetStream's management API on a blocking connection.  Also what tests get from
    ``rig.client(name, "jetstream")``: ``account_info()``, ``streams()``, ``stream_info(name)``,
    ``consumers(stream)``, ``consumer_info(stream, name)``, ``api(subject, payload)``.

    Every call is a JetStream API request: it counts in the account's API statistics, which is
    how the per-test reset notices that a test may have changed streams (so after a test that
    used this client, the reset looks at every stream: a few milliseconds instead of a fraction)."""

    def __init__(self, url: str, *, timeout: float = 5.0, service: str = "", name: str = "stackrig") -> None:
        self.wire = Wire(url, timeout=timeout, name=name)
        self.service = service

    def api(self, subject: str, payload: Mapping[str, Any] | bytes | str = b"", *,
            timeout: float | None = None) -> dict[str, Any]:
        """``$JS.API.<subject>``: the decoded reply; a JetStream error raises :class:`JetStreamError`."""
        full = subject if subject.startswith("$JS.") else f"$JS.API.{subject}"
        reply = self.wire.json(full, payload, timeout=timeout)
        error = reply.get("error")
        if isinstance(error, dict):
            who = f"service '{self.service}': " if self.service else ""
            raise JetStreamError(f"{who}JetStream refused {full}: {error.get('description', error)} "
                                 f"(code {error.get('code')}, err_code {error.get('err_code')})",
                                 code=error.get("code"), err_code=error.get("err_code"))
        return reply

    def account_info(self) -> dict[str, Any]:
        return self.api("INFO")

    def _paged(self, subject: str, field: str) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            page = self.api(subject, {"offset": offset})
            items = page.get(field) or []
            yield from items
            offset += len(items)
            if not items or offset >= int(page.get("total", 0)):
                return

    def streams(self) -> list[dict[str, Any]]:
        """Every stream's info (config and state)."""
        return list(self._paged("STREAM.LIST", "streams"))

    def stream_info(self, name: str) -> dict[str, Any]:
        return self.api(f"STREAM.INFO.{name}")

    def consumers(self, stream: str) -> list[dict[str, Any]]:
        """Every consumer's info (config and state) of `stream`."""
        return list(self._paged(f"CONSUMER.LIST.{stream}", "consumers"))

    def consumer_info(self, stream: str, name: str) -> dict[str, Any]:
        return self.api(f"CONSUMER.INFO.{stream}.{name}")

    def create_stream(self, config: Mapping[str, Any]) -> dict[str, Any]:
        return self.api(f"STREAM.CREATE.{config['name']}", config)

    def update_stream(self, config: Mapping[str, Any]) -> dict[str, Any]:
        return self.api(f"STREAM.UPDATE.{config['name']}", config)

    def delete_stream(self, name: str) -> None:
        self.api(f"STREAM.DELETE.{name}")

    def purge_stream(self, name: str) -> int:
        return int(self.api(f"STREAM.PURGE.{name}").get("purged", 0))

    def create_consumer(self, stream: str, config: Mapping[str, Any]) -> dict[str, Any]:
        """Create (or update) a durable consumer (the 2.9-compatible durable API)."""
        return self.api(f"CONSUMER.DURABLE.CREATE.{stream}.{config['durable_name']}",
                        {"stream_name": stream, "config": config})

    def ensure_stream(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """The stream as `config` says: created, else updated, else (a setting JetStream cannot
        update, such as `storage`) deleted and created again."""
        try:
            return self.create_stream(config)
        except JetStreamError as exc:
            if exc.err_code != STREAM_NAME_IN_USE:
                raise
        try:
            return self.update_stream(config)
        except JetStreamError:
            self.delete_stream(str(config["name"]))
            return self.create_stream(config)

    def ensure_consumer(self, stream: str, config: Mapping[str, Any]) -> dict[str, Any]:
        """The durable consumer as `config` says: created or updated, else (a setting JetStream
        cannot update, such as `deliver_policy`) deleted and created again."""
        try:
            return self.create_consumer(stream, config)
        except JetStreamError as refused:
            name = str(config["durable_name"])
            try:
                self.consumer_info(stream, name)
            except JetStreamError:
                raise refused from None  # it does not exist: the create's own error stands
            self.delete_consumer(stream, name)
            return self.create_consumer(stream, config)

    def delete_consumer(self, stream: str, name: str) -> None:
        self.api(f"CONSUMER.DELETE.{stream}.{name}")

    def close(self) -> None:
        self.wire.close()

    def __enter__(self) -> JetStreamAdmin:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
