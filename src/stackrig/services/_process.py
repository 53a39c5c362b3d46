"""`kind = "process"`: any command — the app under test, in any language."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import ClassVar

from .._probes import Probe, TcpProbe
from ..config import ProcessSpec
from ._base import Service

__all__ = ["ProcessService"]


class ProcessService(Service):
    kind: ClassVar[str] = "process"
    spec: ProcessSpec

    def wants_ports(self) -> int:
        return self.spec.replicas if self.spec.port is not False else 0

    def fixed_port(self) -> int | None:
        port = self.spec.port
        return port if isinstance(port, int) and not isinstance(port, bool) else None

    def default_probe(self) -> Probe | None:
        return TcpProbe() if self.spec.port is not False else None

    def cwd(self) -> Path:
        if self.spec.cwd is None:
            return self.ctx.stack_root
        p = Path(self.spec.cwd).expanduser()
        return p if p.is_absolute() else self.ctx.stack_root / p

    def argv(self, port: int | None) -> list[str]:
        command = self.spec.command
        if isinstance(command, str):
            text = self.resolve(command, "command", port)
            return ["/bin/sh", "-c", "exec " + text]
        return [self.resolve(part, f"command.{i}", port) for i, part in enumerate(command)]

    def launch(self) -> None:
        ports: list[int | None] = list(self.ports) or [None] * self.spec.replicas
        for index, port in enumerate(ports):
            env = self.base_env(port)
            if port is not None:
                env["PORT"] = str(port)
            env.setdefault("PYTHONUNBUFFERED", "1")
            env["STACKRIG_SERVICE"] = self.name
            env["STACKRIG_REPLICA"] = str(index)
            self.spawn(self.argv(port), env, self.cwd(), port, index=index)


class SmtpService(Service):
    """`kind = "smtp"`: an aiosmtpd server that captures messages into a mailbox folder."""

    kind: ClassVar[str] = "smtp"

    def url_for(self, port: int | None) -> str:
        return f"smtp://{self.host}:{port}" if port else ""

    @property
    def mailbox(self) -> Path:
        return self.ctx.data_dir / self.name / "mailbox"

    def attributes(self, port: int | None = None) -> dict[str, str]:
        attrs = super().attributes(port)
        attrs["mailbox"] = str(self.mailbox)
        return attrs

    def launch(self) -> None:
        assert self.port is not None
        self.mailbox.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", "stackrig.mail", "--host", self.host, "--port", str(self.port),
                "--mailbox", str(self.mailbox)]
        self.spawn(argv, self.base_env(), self.ctx.stack_root, self.port)


class HttpStubService(Service):
    """`kind = "http-stub"`: stackrig's WireMock-compatible stub server."""

    kind: ClassVar[str] = "http-stub"

    def default_probe(self) -> Probe:
        from .._probes import HttpProbe

        return HttpProbe("/__admin/health")

    def launch(self) -> None:
        assert self.port is not None
        mappings = getattr(self.spec, "mappings", None)
        root = self.ctx.stack_root / mappings if mappings else self.ctx.data_dir / self.name
        root.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", "stackrig.stub", "--host", self.host, "--port", str(self.port),
                "--root", str(root), "--journal-limit", str(getattr(self.spec, "journal_limit", 10000))]
        self.spawn(argv, self.base_env(), self.ctx.stack_root, self.port)
