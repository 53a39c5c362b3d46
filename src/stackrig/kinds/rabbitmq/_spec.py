"""The keys of `kind = "rabbitmq"` (docs/kinds/rabbitmq.md)."""

from __future__ import annotations

import re
from typing import ClassVar, Literal

from ...config import Scalar, Seconds, ServerSpec, Spec, SpecError

__all__ = ["BindingSpec", "ExchangeSpec", "QueueSpec", "RabbitSpec", "BUILTIN_EXCHANGES", "EXCHANGE_TYPES"]

# Exchanges every vhost has (the default exchange is "").
BUILTIN_EXCHANGES = ("amq.direct", "amq.fanout", "amq.topic", "amq.headers", "amq.match", "amq.rabbitmq.trace")
EXCHANGE_TYPES = ("direct", "fanout", "topic", "headers")
_PLUGIN = re.compile(r"^rabbitmq_[a-z0-9_]+$")
QUEUE_TYPES = ("classic", "quorum", "stream")


def _closest(word: str, options: list[str]) -> str:
    import difflib

    found = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f" (did you mean '{found[0]}'?)" if found else ""


def _check_name(name: str, what: str) -> None:
    if not name.strip():
        raise SpecError("name", f"{what} name must not be empty")
    if name.startswith("amq."):
        raise SpecError("name", f"{what} name {name!r} starts with 'amq.', which RabbitMQ reserves for its own "
                                f"{what}s (declaring one is refused with ACCESS_REFUSED)")
    if len(name.encode()) > 255:
        raise SpecError("name", f"{what} name {name[:40]!r}... is longer than 255 bytes (an AMQP short string)")


class ExchangeSpec(Spec, kw_only=True):
    """`exchanges = [{ name = "orders", type = "topic" }]`"""

    name: str
    type: str = "direct"
    durable: bool = True
    auto_delete: bool = False
    internal: bool = False
    arguments: dict[str, Scalar] = {}

    def __post_init__(self) -> None:
        _check_name(self.name, "exchange")
        if self.type not in EXCHANGE_TYPES and not self.type.startswith("x-"):
            raise SpecError("type", f"exchange type {self.type!r} is not one of {', '.join(EXCHANGE_TYPES)}"
                                    f"{_closest(self.type, list(EXCHANGE_TYPES))} (a plugin's type starts with 'x-', "
                                    "e.g. 'x-consistent-hash')")


class QueueSpec(Spec, kw_only=True):
    """`queues = [{ name = "billing", durable = true }]`"""

    name: str
    durable: bool = True
    auto_delete: bool = False
    type: Literal["classic", "quorum", "stream"] | None = None  # sets x-queue-type
    arguments: dict[str, Scalar] = {}

    def __post_init__(self) -> None:
        _check_name(self.name, "queue")
        declared = self.arguments.get("x-queue-type")
        if self.type is not None and declared is not None and declared != self.type:
            raise SpecError("type", f"type = {self.type!r} but arguments.x-queue-type = {declared!r}; give one")
        if declared is not None and declared not in QUEUE_TYPES:
            raise SpecError("arguments", f"x-queue-type {declared!r} is not one of {', '.join(QUEUE_TYPES)}")
        kind = self.type or declared or "classic"
        if kind in ("quorum", "stream") and (not self.durable or self.auto_delete):
            raise SpecError("durable", f"a {kind} queue must be durable and not auto-delete "
                                       f"(RabbitMQ refuses {self.name!r} otherwise)")

    @property
    def queue_arguments(self) -> dict[str, Scalar]:
        args = dict(self.arguments)
        if self.type is not None:
            args["x-queue-type"] = self.type
        return args


class BindingSpec(Spec, kw_only=True):
    """`bindings = [{ exchange = "orders", queue = "billing", routing_key = "order.*" }]`
    (or `to_exchange = "audit"` for an exchange-to-exchange binding)."""

    exchange: str
    queue: str | None = None
    to_exchange: str | None = None
    routing_key: str = ""
    arguments: dict[str, Scalar] = {}

    def __post_init__(self) -> None:
        if not self.exchange:
            raise SpecError("exchange", "the default exchange ('') cannot be bound: it routes to the queue named "
                                        "by the routing key already")
        if (self.queue is None) == (self.to_exchange is None):
            raise SpecError(None, "a binding needs exactly one destination: `queue = \"...\"` or "
                                  "`to_exchange = \"...\"`")

    @property
    def destination(self) -> tuple[str, str]:
        """("queue" | "exchange", name)."""
        if self.queue is not None:
            return "queue", self.queue
        assert self.to_exchange is not None
        return "exchange", self.to_exchange


class RabbitSpec(ServerSpec, kw_only=True):
    definitions: str | None = None  # a `rabbitmqctl export_definitions` / management export (JSON)
    exchanges: list[ExchangeSpec] = []
    queues: list[QueueSpec] = []
    bindings: list[BindingSpec] = []
    vhost: str = "/"
    user: str = "guest"
    password: str = "guest"
    management: bool = False
    tap_exchange: str | None = None
    plugins: list[str] = []
    advanced_config: str | None = None  # an advanced.config file (Erlang terms), applied at boot
    isolation: Literal["purge", "always", "none"] = "purge"
    reset_timeout: Seconds = 10.0

    attributes: ClassVar[tuple[str, ...]] = ("host", "port", "url", "name", "user", "password", "vhost",
                                            "management_url", "management_port", "node", "tap_exchange")

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.vhost:
            raise SpecError("vhost", "vhost must not be empty (the default vhost is \"/\")")
        if not self.user:
            raise SpecError("user", "user must not be empty")
        if not self.password:
            raise SpecError("password", "password must not be empty (RabbitMQ refuses an empty password on "
                                        "AMQP PLAIN authentication)")
        for key, names in (("exchanges", [x.name for x in self.exchanges]), ("queues", [q.name for q in self.queues])):
            seen: set[str] = set()
            for i, name in enumerate(names):
                if name in seen:
                    raise SpecError(key, f"{key}[{i}]: {name!r} is declared twice")
                seen.add(name)
        for i, plugin in enumerate(self.plugins):
            if not _PLUGIN.match(plugin):
                raise SpecError("plugins", f"plugins[{i}]: {plugin!r} is not a plugin name (they look like "
                                           "'rabbitmq_shovel')")
            if plugin == "rabbitmq_management":
                raise SpecError("plugins", "use `management = true` for rabbitmq_management (it gets a port and "
                                           "${management_url})")
        if self.definitions is None:  # else names may come from the file: checked when it is read
            self.check_names(set())

    def check_names(self, known_exchanges: set[str], known_queues: set[str] | None = None) -> None:
        """Bindings and tap_exchange name declared exchanges and queues (or `known_*` ones, from the
        definitions file, or RabbitMQ's built-in exchanges)."""
        exchanges = {x.name for x in self.exchanges} | set(BUILTIN_EXCHANGES) | known_exchanges
        queues = {q.name for q in self.queues} | (known_queues or set())
        for i, b in enumerate(self.bindings):
            if b.exchange not in exchanges:
                raise SpecError("bindings", f"bindings[{i}]: exchange {b.exchange!r} is not declared"
                                            f"{_closest(b.exchange, sorted(exchanges))}; declare it in `exchanges`"
                                            + (" or in the definitions file" if self.definitions else ""))
            kind, name = b.destination
            pool = queues if kind == "queue" else exchanges
            if name not in pool:
                key = "queue" if kind == "queue" else "to_exchange"
                raise SpecError("bindings", f"bindings[{i}]: {key} {name!r} is not declared"
                                            f"{_closest(name, sorted(pool))}; declare it in `{kind}s`"
                                            + (" or in the definitions file" if self.definitions else ""))
        if self.tap_exchange not in (None, "") and self.tap_exchange not in exchanges:  # "": the default exchange
            raise SpecError("tap_exchange", f"tap_exchange {self.tap_exchange!r} is not declared"
                                            f"{_closest(self.tap_exchange, sorted(exchanges))}; declare it in "
                                            "`exchanges`" + (" or in the definitions file" if self.definitions
                                                             else "") + ", or use amq.topic")

    @property
    def default_exchange(self) -> str:
        """Where taps bind and rig.publish sends unless told otherwise."""
        return self.tap_exchange if self.tap_exchange is not None else "amq.topic"
