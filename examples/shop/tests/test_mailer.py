"""The welcome e-mail, sent to a real (minimal) SMTP server; failures are logged, never raised.

(End-to-end, through ``POST /auth/register``, it needs an SMTP service in the
stack; that comes with stackrig's stub services.)
"""

from __future__ import annotations

import logging
import socket
import socketserver
import threading
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message

import pytest
from shop.mailer import Mailer


class SmtpSink(socketserver.ThreadingTCPServer):
    """Just enough SMTP (RFC 5321) to accept messages and keep them."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SmtpHandler)
        self.messages: list[tuple[str, list[str], Message]] = []
        self.received = threading.Event()


class _SmtpHandler(socketserver.StreamRequestHandler):
    server: SmtpSink

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self.reply("220 sink ready")
        sender, recipients = "", []
        while raw := self.rfile.readline():
            command = raw.decode().rstrip("\r\n")
            verb = command[:4].upper()
            if verb in ("HELO", "EHLO"):
                self.reply("250 sink")
            elif verb == "MAIL":
                sender = command.split(":", 1)[1].strip(" <>")
                self.reply("250 ok")
            elif verb == "RCPT":
                recipients.append(command.split(":", 1)[1].strip(" <>"))
                self.reply("250 ok")
            elif verb == "DATA":
                self.reply("354 end with <CRLF>.<CRLF>")
                lines = []
                while (line := self.rfile.readline()) not in (b".\r\n", b""):
                    lines.append(line[1:] if line.startswith(b"..") else line)
                self.server.messages.append((sender, recipients, message_from_bytes(b"".join(lines))))
                self.server.received.set()
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    server = SmtpSink()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def test_welcome_email_is_sent(sink: SmtpSink) -> None:
    mailer = Mailer("127.0.0.1", sink.server_address[1], "shop@example.com")
    mailer.send_welcome("ada@example.com", "Ada")
    assert sink.received.wait(30)
    sender, recipients, message = sink.messages[0]
    assert (sender, recipients) == ("shop@example.com", ["ada@example.com"])
    assert message["Subject"] == "Welcome to the shop"
    assert "Hello Ada" in message.get_payload()


def test_a_failing_mail_server_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as bound_not_listening:  # connections to it are refused while it is held
        bound_not_listening.bind(("127.0.0.1", 0))
        port = bound_not_listening.getsockname()[1]
        with caplog.at_level(logging.WARNING, logger="shop"):
            Mailer("127.0.0.1", port, "shop@example.com").send_welcome("ada@example.com", "Ada")
    assert f"welcome e-mail to ada@example.com via 127.0.0.1:{port} failed" in caplog.text
    assert "ConnectionRefusedError" in caplog.text


def test_without_smtp_host_nothing_is_sent() -> None:
    mailer = Mailer(None, 25, "shop@example.com")
    assert not mailer.enabled
    mailer.send_welcome("ada@example.com", "Ada")  # returns at once, no connection attempted
