"""The keys of `kind = "mqtt"` (docs/kinds/mqtt.md)."""

from __future__ import annotations

from typing import ClassVar, Literal

from ...config import Scalar, Seconds, ServerSpec, SpecError

__all__ = ["MqttSpec", "filter_problem", "RESERVED_MOSQUITTO", "RESERVED_AMQTT"]

# mosquitto.conf options stackrig writes itself (the `config` table may not set them)
RESERVED_MOSQUITTO = {
    "listener": "the listener is 127.0.0.1 on the allocated port (use `port` to fix the port)",
    "port": "use the service's `port` key",
    "bind_address": "the broker listens on 127.0.0.1 only",
    "bind_interface": "the broker listens on 127.0.0.1 only",
    "allow_anonymous": "use the service's `anonymous` key",
    "password_file": "use the service's `user` and `password` keys",
    "log_dest": "the log goes to the service's log file (stderr: unbuffered)",
    "user": "stackrig chooses the account the broker runs as",
    "persistence_location": "persistence, when enabled, goes to the run's data folder",
    "pid_file": "stackrig supervises the process itself",
    "include_dir": "list the options in `config` instead",
    "per_listener_settings": "there is one listener",
}
# amqtt YAML top-level keys stackrig writes itself
RESERVED_AMQTT = {
    "listeners": "the listener is 127.0.0.1 on the allocated port (use `port` to fix the port)",
    "plugins": "authentication comes from the service's `user`, `password` and `anonymous` keys",
    "auth": "use the service's `user`, `password` and `anonymous` keys",
}


def filter_problem(topic_filter: str) -> str | None:
    """Why `topic_filter` is not a valid MQTT topic filter (None when it is)."""
    if not topic_filter:
        return "a topic filter must not be empty"
    if "\x00" in topic_filter:
        return "a topic filter must not contain NUL"
    levels = topic_filter.split("/")
    for i, level in enumerate(levels):
        if "#" in level and (level != "#" or i != len(levels) - 1):
            return "'#' must be a whole level and the last one (e.g. 'devices/#')"
        if "+" in level and level != "+":
            return "'+' must be a whole level (e.g. 'devices/+/status')"
    return None


class MqttSpec(ServerSpec, kw_only=True):
    broker: Literal["auto", "mosquitto", "amqtt"] = "auto"
    user: str | None = None
    password: str | None = None
    anonymous: bool | None = None  # default: true without `user`, false with it
    config: dict[str, Scalar | list[Scalar]] = {}
    isolation: Literal["retained", "none"] = "retained"
    keep_retained: list[str] = []
    reset_timeout: Seconds = 5.0

    attributes: ClassVar[tuple[str, ...]] = ("host", "port", "url", "name", "user", "password", "broker",
                                             "protocol")

    @property
    def allow_anonymous(self) -> bool:
        return self.anonymous if self.anonymous is not None else self.user is None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.user is not None and not self.user:
            raise SpecError("user", "user must not be empty (leave it out for anonymous access)")
        if self.user is not None and ":" in self.user:
            raise SpecError("user", f"user {self.user!r} must not contain ':' (the password file separates "
                                    "user and hash with it)")
        if self.password is not None and self.user is None:
            raise SpecError("password", "password is set but user is not; set both, or neither for anonymous access")
        if self.user is not None and self.password is None:
            raise SpecError("user", f"user {self.user!r} has no password; set password = \"...\" too")
        if self.anonymous is False and self.user is None:
            raise SpecError("anonymous", "anonymous = false but no user is set: nobody could connect; "
                                         "set user and password")
        for key, value in self.config.items():
            why = RESERVED_MOSQUITTO.get(key) or RESERVED_AMQTT.get(key)
            if why:
                raise SpecError("config", f"config key {key!r} is set by stackrig: {why}")
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str) and ("\n" in item or "\r" in item):
                    raise SpecError("config", f"config key {key!r}: a value must be one line")
            if not key or any(ch.isspace() for ch in key):
                raise SpecError("config", f"config key {key!r} must be one word")
        for topic_filter in self.keep_retained:
            problem = filter_problem(topic_filter)
            if problem:
                raise SpecError("keep_retained", f"keep_retained: {topic_filter!r} is not a topic filter: {problem}")
