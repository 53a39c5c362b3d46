"""`mailhog/mailhog`, `axllent/mailpit`, `maildev/maildev` in a compose file as `kind = "smtp"`.

Their SMTP port (1025) is the kind's port; the messages are in ``rig.mail(NAME)``.  Their web UI
and HTTP API (8025, 1080) have no counterpart: tests read the mailbox through ``rig.mail()``.
"""

from __future__ import annotations

from ...compose import ComposeImage, ComposeMapping, ComposeService

__all__ = ["IMAGE"]


def to_stack(svc: ComposeService) -> ComposeMapping:
    m = ComposeMapping()
    for var in svc.environment:
        if var.startswith(("MH_", "MP_", "MAILDEV_")):
            m.used_env.add(var)
            m.dropped(("environment", var), f"{var}: the capture server's own settings")
    for p in svc.ports:
        if p.container in (8025, 1080):
            m.warn((p.key, p.index), f"port {p.container}: the web UI and HTTP API are not served — tests read the "
                   "mailbox with rig.mail()")
    m.mapped(("image",), "an SMTP server that keeps every message for rig.mail()")
    return m


IMAGE = ComposeImage(
    images=("mailhog/mailhog", "axllent/mailpit", "maildev/maildev"),
    ports={1025: "port"},
    map=to_stack,
    summary="SMTP on 1025 → the capturing server (`rig.mail()`); the web UI/API (8025) is not served",
    versioned=False,
)
