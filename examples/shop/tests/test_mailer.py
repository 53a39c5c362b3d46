"""The welcome-mail client (:class:`shop.mailer.Mailer`) against the stack's ``smtp`` service.

The stack's ``smtp`` service (kind = "smtp") is a real SMTP server that keeps every message it
accepts; ``rig.mail("smtp")`` reads them, and stackrig empties the mailbox after each test.  These
tests build a ``Mailer`` themselves, pointed at that server; the same e-mail sent by the API on
``POST /auth/register`` is checked end to end in ``test_outages.py``.  Failures are logged, never
raised, so a broken mail server cannot fail a registration.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from shop.mailer import Mailer

from stackrig import Rig

SENDER = "shop@example.com"


@pytest.fixture
def mailer(rig: Rig) -> Mailer:
    smtp = rig["smtp"]
    assert smtp.port is not None
    return Mailer(smtp.host, smtp.port, SENDER)


@pytest.fixture
def smtp_down(rig: Rig) -> Iterator[None]:
    """The stack's smtp service stopped for the test (connections to its port are refused), then back."""
    rig["smtp"].stop()
    try:
        yield
    finally:
        rig["smtp"].start()


def test_welcome_email_is_sent(rig: Rig, mailer: Mailer) -> None:
    mailer.send_welcome("ada@example.com", "Ada")
    message = rig.mail("smtp").wait_for(to="ada@example.com")
    assert (message.mail_from, message.rcpt_tos) == (SENDER, ["ada@example.com"])  # the SMTP envelope
    assert (message.header("From"), message.header("To")) == (SENDER, "ada@example.com")
    assert message.subject == "Welcome to the shop"
    assert "Hello Ada" in message.body
    assert "your account ada@example.com is ready" in message.body
    assert len(rig.mail("smtp").messages()) == 1  # one call, one message


def test_a_failing_mail_server_is_logged_not_raised(
    mailer: Mailer, smtp_down: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="shop"):
        mailer.send_welcome("ada@example.com", "Ada")  # must not raise
    assert f"welcome e-mail to ada@example.com via {mailer.host}:{mailer.port} failed" in caplog.text
    assert "ConnectionRefusedError" in caplog.text


def test_the_mailer_works_again_once_the_server_is_back(
    rig: Rig, mailer: Mailer, caplog: pytest.LogCaptureFixture
) -> None:
    rig["smtp"].stop()
    try:
        with caplog.at_level(logging.WARNING, logger="shop"):
            mailer.send_welcome("lost@example.com", "Lost")
        assert "welcome e-mail to lost@example.com" in caplog.text and "failed" in caplog.text
    finally:
        rig["smtp"].start()
    mailer.send_welcome("ada@example.com", "Ada")  # the same Mailer: it keeps no broken connection
    assert rig.mail("smtp").wait_for(to="ada@example.com").subject == "Welcome to the shop"
    assert rig.mail("smtp").find(to="lost@example.com") == []  # the failed one is not sent later


def test_without_smtp_host_nothing_is_sent(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    port = rig["smtp"].port
    assert port is not None
    mailer = Mailer(None, port, SENDER)  # the stack's port, but no host: mail is switched off
    assert not mailer.enabled
    with caplog.at_level(logging.INFO, logger="shop"):
        mailer.send_welcome("ada@example.com", "Ada")
    assert [r for r in caplog.records if "welcome e-mail" in r.getMessage()] == []  # neither sent nor failed
    assert rig.mail("smtp").messages() == []
