"""`kind = "smtp"`: an aiosmtpd server that captures every message into a mailbox for tests.

Keys: docs/stack-file.md#smtp.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, ClassVar

from ...config import Port, ServiceSpec
from ...services import Endpoint, Service, ServiceKind, TestReset

__all__ = ["KIND", "SmtpSpec", "SmtpService"]


class SmtpSpec(ServiceSpec, kw_only=True):
    port: Port | None = None

    attributes: ClassVar[tuple[str, ...]] = ("host", "port", "url", "name", "mailbox")


class SmtpService(Service):
    spec: SmtpSpec

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


def mailbox(endpoint: Endpoint) -> Any:
    from ...mail import Mailbox

    return Mailbox(endpoint.attributes["mailbox"], service=endpoint.name)


class _Clear(TestReset):
    """After each test: the mailbox emptied."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.box = mailbox(endpoint)

    def after(self, test_id: str) -> None:
        self.box.clear()

    def still_dirty(self) -> bool:
        return True


def make_reset(spec: ServiceSpec, endpoint: Endpoint) -> TestReset:
    return _Clear(endpoint)



def _compose() -> Any:
    """The images this kind runs for a compose file (docs/compose.md): ``_compose.py``."""
    from ._compose import IMAGE

    return IMAGE


KIND = ServiceKind(
    name="smtp",
    spec=SmtpSpec,
    service=SmtpService,
    summary="an SMTP server (aiosmtpd) that captures mail for assertions",
    clients={"mail": mailbox},
    reset=make_reset,
    docs="docs/stack-file.md#kind--smtp",
    compose=_compose,
)
