"""`kind = "smtp"`: a real SMTP server capturing what an app sends."""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import pytest

from stackrig import Stack, StackrigError


def test_messages_are_captured_and_read_back(stackfile: Callable[[str], Path]) -> None:
    with Stack.load(stackfile("""
        [services.smtp]
        kind = "smtp"
        export = { SMTP_HOST = "${host}", SMTP_PORT = "${port}" }
    """)) as rig:
        assert rig.env["SMTP_HOST"] == "127.0.0.1"
        msg = EmailMessage()
        msg["From"] = "shop@example.com"
        msg["To"] = "ann@example.com"
        msg["Subject"] = "Welcome, Ann"
        msg.set_content("Thanks for registering.\n")
        with smtplib.SMTP(rig.env["SMTP_HOST"], int(rig.env["SMTP_PORT"])) as client:
            client.send_message(msg)
        box = rig.mail("smtp")
        got = box.wait_for(to="ann@example.com", timeout=10)
        assert got.subject == "Welcome, Ann"
        assert got.mail_from == "shop@example.com"
        assert got.body == "Thanks for registering.\n"
        assert len(box) == 1
        box.clear()
        assert box.messages() == []
        with pytest.raises(StackrigError) as info:
            box.wait_for(to="bob@example.com", timeout=0.2)
        assert "no message with to='bob@example.com' arrived within 0.2 s" in str(info.value)
        with pytest.raises(StackrigError, match="service 'smtp' is a smtp service, which offers mail, not 'redis'"):
            rig.redis("smtp")
