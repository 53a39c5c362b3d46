"""Reading captured messages."""

from __future__ import annotations

import email
import email.policy
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from ..errors import StackrigError

__all__ = ["Mailbox", "Message", "MailTimeout"]


class MailTimeout(StackrigError, TimeoutError):
    """No message matching arrived in time (also a `TimeoutError`)."""

    def __init__(self, message: str, *, service: str, received: list[str], hint: str | None = None) -> None:
        self.service = service
        self.received = received
        super().__init__(message, hint=hint)


@dataclass(frozen=True)
class Message:
    """One captured message: envelope and parsed content."""

    mail_from: str
    rcpt_tos: list[str]
    raw: str
    received_at: float
    parsed: EmailMessage = field(repr=False, compare=False, default_factory=EmailMessage)

    @property
    def subject(self) -> str:
        return str(self.parsed.get("Subject", ""))

    @property
    def to(self) -> list[str]:
        return list(self.rcpt_tos)

    @property
    def body(self) -> str:
        """The plain-text body (the first text/plain part), else the whole payload as text."""
        part = self.parsed.get_body(preferencelist=("plain", "html"))
        if part is None:
            return self.raw
        return str(part.get_content())

    def header(self, name: str) -> str | None:
        value = self.parsed.get(name)
        return None if value is None else str(value)


class Mailbox:
    """The messages an smtp service has captured, oldest first."""

    def __init__(self, folder: Path | str, service: str = "smtp") -> None:
        self.folder = Path(folder)
        self.service = service

    def messages(self) -> list[Message]:
        out: list[Message] = []
        for path in sorted(self.folder.glob("*.json")):
            try:
                data = json.loads(path.read_text())
            except (OSError, ValueError):
                continue  # being written
            raw = data["raw"].replace("\r\n", "\n")  # SMTP line endings
            parsed = email.message_from_string(raw, policy=email.policy.default)
            assert isinstance(parsed, EmailMessage)
            out.append(Message(data["mail_from"], data["rcpt_tos"], raw, data["received_at"], parsed))
        return out

    def __len__(self) -> int:
        return len(self.messages())

    def clear(self) -> None:
        for path in self.folder.glob("*.json"):
            path.unlink(missing_ok=True)

    def find(self, *, to: str | None = None, subject: str | None = None,
             where: Callable[[Message], bool] | None = None) -> list[Message]:
        def ok(m: Message) -> bool:
            return ((to is None or to in m.rcpt_tos)
                    and (subject is None or subject in m.subject)
                    and (where is None or where(m)))

        return [m for m in self.messages() if ok(m)]

    def wait_for(self, *, to: str | None = None, subject: str | None = None,
                 where: Callable[[Message], bool] | None = None, timeout: float = 10.0) -> Message:
        """The first message matching, waiting up to `timeout` seconds for it to arrive."""
        end = time.monotonic() + timeout
        while True:
            found = self.find(to=to, subject=subject, where=where)
            if found:
                return found[0]
            if time.monotonic() >= end:
                got = self.messages()
                seen = "\n".join(f"    - to {m.rcpt_tos}, subject {m.subject!r}" for m in got) or "    (none)"
                want = ", ".join(f"{k}={v!r}" for k, v in (("to", to), ("subject", subject)) if v is not None)
                raise MailTimeout(
                    f"smtp service '{self.service}': no message{' with ' + want if want else ''} "
                    f"arrived within {timeout:g} s; received:\n{seen}",
                    service=self.service, received=[f"to {m.rcpt_tos}, subject {m.subject!r}" for m in got],
                    hint="check that the app's SMTP_HOST/SMTP_PORT point at this service")
            time.sleep(0.02)
