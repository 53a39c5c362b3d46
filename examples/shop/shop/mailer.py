"""The welcome e-mail, sent through SMTP when ``SMTP_HOST`` is set.

Sending is best-effort: it runs after the response, and a failure is logged,
never raised, so a broken mail server cannot fail a registration.
"""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

__all__ = ["Mailer"]

log = logging.getLogger("shop")


class Mailer:
    def __init__(self, host: str | None, port: int, sender: str, *, timeout_s: float = 5.0) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self._timeout_s = timeout_s

    @property
    def enabled(self) -> bool:
        return bool(self.host)

    def welcome_message(self, to: str, name: str) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = to
        msg["Subject"] = "Welcome to the shop"
        msg.set_content(f"Hello {name},\n\nyour account {to} is ready.\n")
        return msg

    def send_welcome(self, to: str, name: str) -> None:
        """Blocking; FastAPI runs it in its thread pool as a background task."""
        if not self.host:
            return
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self._timeout_s) as smtp:
                smtp.send_message(self.welcome_message(to, name))
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("welcome e-mail to %s via %s:%s failed: %r", to, self.host, self.port, exc)
        else:
            log.info("welcome e-mail sent to %s", to)
