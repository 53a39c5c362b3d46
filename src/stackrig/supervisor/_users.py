"""The account servers run under when stackrig runs as root (PostgreSQL refuses root)."""

from __future__ import annotations

import os
import pwd
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["ProcessUser", "unprivileged_user"]


@dataclass(frozen=True)
class ProcessUser:
    """An account to run a server under (when stackrig runs as root)."""

    name: str
    uid: int
    gid: int


def unprivileged_user(preferred: Sequence[str] = ()) -> ProcessUser | None:
    """When running as root: the account that servers refusing root run under; else None.

    ``STACKRIG_SERVICE_USER`` first, then the `preferred` accounts (those the server's own
    packages create), then ``nobody``."""
    if os.geteuid() != 0:
        return None
    for name in (os.environ.get("STACKRIG_SERVICE_USER"), *preferred, "nobody"):
        if not name:
            continue
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return ProcessUser(entry.pw_name, entry.pw_uid, entry.pw_gid)
    return None
