"""`kind = "smtp"`: a real SMTP server (aiosmtpd) that captures every message for tests.

The server process writes each message it accepts as one JSON file in a
mailbox folder; :class:`Mailbox` (``rig.mail("smtp")``) reads them::

    msg = rig.mail("smtp").wait_for(to="ann@example.com")
    assert "Welcome" in msg.subject
"""

from ._mailbox import Mailbox, MailTimeout, Message

__all__ = ["MailTimeout", "Mailbox", "Message"]
