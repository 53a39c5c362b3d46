"""Per-test isolation of a NATS service: JetStream back to its baseline, in place.

Core NATS keeps nothing, so only JetStream has state.  The baseline is the streams and durable
consumers that exist when the test session starts (the declared ones, and any the application
made while starting), with no messages.  After each test:

1. **the check** (every test): one ``$JS.API.INFO`` request.  The account's memory and storage
   bytes, stream and consumer counts, and the number of JetStream API requests it has served
   are compared with what they were after the previous reset.  A test that published nothing
   into a stream and made no JetStream API call (creating or deleting a stream or consumer,
   asking for their info) changed nothing: done, in a few tenths of a millisecond.
2. **the restore** (only when the check saw a change): one ``STREAM.LIST``; streams that are not
   in the baseline are deleted (KV buckets and object stores are streams too); baseline streams
   that are missing are created again (one a test deleted),
   and changed ones updated back; each stream holding messages is purged — streams and
   consumers stay, and the consumers' state follows the purge (nothing pending, acks floor
   moved to the purge); the durable consumers of a stream are listed only when API calls were
   made or their count changed: durable consumers the test created are deleted, missing ones
   created again.  Ephemeral consumers are left alone (they belong to live subscribers and go
   away with them).  Then one more ``$JS.API.INFO`` is the new expectation.

The application keeps its connections, subscriptions and consumers throughout.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from ...config import ServiceSpec
from ...errors import IsolationError
from ...services import Endpoint, TestReset
from ._jetstream import JetStreamAdmin, JetStreamError, consumer_config, stream_config
from ._spec import NatsSpec
from ._wire import NatsError

__all__ = ["Account", "Restored", "StreamReset", "make_reset"]


@dataclass(frozen=True)
class Account:
    """What the check compares: JetStream's account totals."""

    memory: int
    storage: int
    streams: int
    consumers: int
    api_total: int  # API requests served before the INFO request that read this

    @classmethod
    def of(cls, info: dict[str, Any]) -> Account:
        api = info.get("api") or {}
        return cls(int(info.get("memory", 0)), int(info.get("storage", 0)), int(info.get("streams", 0)),
                   int(info.get("consumers", 0)), int(api.get("total", 0)))

    def unchanged_since(self, before: Account) -> bool:
        """Nothing happened but the one INFO request that read `before`."""
        return (self.memory, self.storage, self.streams, self.consumers, self.api_total) == (
            before.memory, before.storage, before.streams, before.consumers, before.api_total + 1)


@dataclass
class Restored:
    """What one reset did (``reset.last``), for tests and the benchmark."""

    test_id: str = ""
    changed: bool = False
    ms: float = 0.0
    actions: list[str] = field(default_factory=list)


def _comparable(config: dict[str, Any]) -> dict[str, Any]:
    """A config without what the server fills in by itself (its `_nats.*` metadata)."""
    out = dict(config)
    meta = out.get("metadata")
    if isinstance(meta, dict):
        kept = {k: v for k, v in meta.items() if not str(k).startswith("_nats.")}
        if kept:
            out["metadata"] = kept
        else:
            out.pop("metadata")
    return out


class StreamReset(TestReset):
    def __init__(self, spec: NatsSpec, endpoint: Endpoint) -> None:
        self.service = endpoint.name
        self.admin = JetStreamAdmin(endpoint.direct_url, timeout=spec.reset_timeout, service=endpoint.name,
                                    name="stackrig-reset")
        self.streams: dict[str, dict[str, Any]] = {}  # baseline: name -> config
        self.consumers: dict[str, dict[str, dict[str, Any]]] = {}  # stream -> durable name -> config
        self.expected: Account | None = None  # None: the next `after` restores whatever the check says
        self.dirty = False
        self.last = Restored()
        self._baseline(spec)

    # -- the baseline ---------------------------------------------------------------------
    def _baseline(self, spec: NatsSpec) -> None:
        try:
            for info in self.admin.streams():
                config = info["config"]
                name = str(config["name"])
                self.streams[name] = config
                if int((info.get("state") or {}).get("consumer_count", 0)):
                    self.consumers[name] = {str(c["name"]): c["config"] for c in self.admin.consumers(name)
                                            if c["config"].get("durable_name")}
            missing = False
            for stream in spec.streams:  # declared but gone (a restart lost a memory stream): as declared
                if stream.name not in self.streams:
                    self.streams[stream.name] = stream_config(stream)
                    missing = True
            for consumer in spec.consumers:
                known = self.consumers.setdefault(consumer.stream, {})
                if consumer.durable not in known:
                    known[consumer.durable] = consumer_config(consumer)
                    missing = True
            account = Account.of(self.admin.account_info())
        except (JetStreamError, NatsError, OSError) as exc:
            raise IsolationError(f"service '{self.service}': could not read JetStream's baseline: {exc}",
                                 hint="is the service running, with `jetstream = true`?") from None
        # messages already stored are not part of the baseline: the first reset purges them
        clean = not missing and account.memory == 0 and account.storage == 0
        self.expected = account if clean else None

    # -- after each test -----------------------------------------------------------------
    def after(self, test_id: str) -> None:
        t0 = time.perf_counter()
        self.last = Restored(test_id)
        try:
            now = Account.of(self.admin.account_info())
        except (JetStreamError, NatsError, OSError) as exc:
            self.dirty = True
            raise IsolationError(f"service '{self.service}': after {test_id}, JetStream did not say what changed: "
                                 f"{exc}", hint=f"is '{self.service}' running? A test that stopped it must start "
                                                f"it again (rig['{self.service}'].start())") from None
        if self.expected is not None and now.unchanged_since(self.expected):
            self.expected = now
            self.dirty = False
            self.last.ms = (time.perf_counter() - t0) * 1000
            return
        api_used = self.expected is None or now.api_total != self.expected.api_total + 1 or (
            now.consumers != self.expected.consumers)
        self.last.changed = True
        try:
            failures = self._restore(api_used)
            self.expected = Account.of(self.admin.account_info()) if not failures else None
        except (JetStreamError, NatsError, OSError) as exc:
            failures = [f"listing JetStream's streams failed: {exc}"]
            self.expected = None
        self.last.ms = (time.perf_counter() - t0) * 1000
        self.dirty = bool(failures)
        if failures:
            lines = "\n".join(f"  - {f}" for f in failures)
            raise IsolationError(f"service '{self.service}': JetStream could not be put back to its baseline after "
                                 f"{test_id} ({len(failures)} steps failed; the others ran):\n{lines}",
                                 hint="the next test is refused until a reset succeeds; see the service's log")

    def _restore(self, api_used: bool) -> list[str]:
        failures: list[str] = []
        actions = self.last.actions

        def step(what: str, fn: Any, *args: Any) -> Any:
            try:
                result = fn(*args)
            except (JetStreamError, NatsError, OSError) as exc:
                failures.append(f"{what}: {exc}")
                return None
            actions.append(what)
            return True if result is None else result

        current = {str(info["config"]["name"]): info for info in self.admin.streams()}
        for name in current:
            if name not in self.streams:
                step(f"deleted stream {name}", self.admin.delete_stream, name)
        for name, config in self.streams.items():
            info = current.get(name)
            recreated = False
            if info is None:
                made = step(f"created stream {name} again", self.admin.create_stream, config)
                if made is None:
                    continue
                self.streams[name] = made.get("config") or config  # as the server keeps it: compared next time
                recreated = True
            else:
                if _comparable(info["config"]) != _comparable(config):
                    step(f"restored the config of stream {name}", self.admin.ensure_stream, config)
                state = info.get("state") or {}
                if int(state.get("messages", 0)) or int(state.get("bytes", 0)):
                    step(f"purged stream {name} ({state.get('messages')} messages)", self.admin.purge_stream, name)
            wanted = self.consumers.get(name, {})
            count = int((info or {}).get("state", {}).get("consumer_count", 0))
            if not (recreated or api_used or count != len(wanted)):
                continue
            try:
                have = {} if recreated else {str(c["name"]): c for c in self.admin.consumers(name)}
            except (JetStreamError, NatsError, OSError) as exc:
                failures.append(f"listing the consumers of stream {name}: {exc}")
                continue
            for cname, consumer in have.items():
                if cname not in wanted and consumer["config"].get("durable_name"):
                    step(f"deleted consumer {name}/{cname}", self.admin.delete_consumer, name, cname)
            for cname, config in wanted.items():
                present = have.get(cname)
                made = None
                if present is None:
                    made = step(f"created consumer {name}/{cname} again", self.admin.create_consumer, name, config)
                elif _comparable(present["config"]) != _comparable(config):
                    made = step(f"restored the config of consumer {name}/{cname}", self.admin.ensure_consumer, name,
                                config)
                if isinstance(made, dict) and made.get("config"):
                    wanted[cname] = made["config"]
        return failures

    def still_dirty(self) -> bool:
        return self.dirty

    def close(self) -> None:
        self.admin.close()


def make_reset(spec: ServiceSpec, endpoint: Endpoint) -> TestReset | None:
    assert isinstance(spec, NatsSpec)
    if spec.isolation == "none" or not spec.jetstream:
        return None  # core NATS keeps nothing between tests
    return StreamReset(spec, endpoint)
