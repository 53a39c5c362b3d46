"""A compose `healthcheck` as a stackrig readiness probe (for processes; kinds probe natively).

``curl -f http://localhost:8000/health`` (or ``wget``, or Python's ``urlopen``) on the service's own
container port becomes ``ready = { http = "/health" }``, polled in-process without curl; any other
test becomes ``ready = { command = ... }``, run with the service's environment — its own port is
``$PORT`` there, other services' addresses are rewritten.  The check's timing (``start_period``,
``retries``, ``interval``, ``timeout``) bounds ``start_timeout``.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from ._model import HealthDef

__all__ = ["probe_for", "start_timeout_for"]

_FAIL_FLAG = re.compile(r"(?:^|\s)(?:--fail(?:-with-body)?|-[a-zA-Z]*f[a-zA-Z]*)(?=\s|$)")
_HTTP = re.compile(r"https?://(?P<host>localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\]|[A-Za-z0-9._-]+)"
                   r"(?::(?P<port>\d+))?(?P<path>/[^\s'\")]*)?")
_TRAILER = re.compile(r"\s*\|\|\s*(?:exit\s+1|false)\s*$")


def probe_for(health: HealthDef, own_port: int | None, own_names: set[str]) -> tuple[dict[str, Any] | None, str]:
    """(the `ready` table, or None for the default probe; what was done, for the notes)."""
    if health.disabled:
        return None, "healthcheck disabled: the default probe"
    shell = health.shell is not None
    shown = health.shell if health.shell is not None else " ".join(health.argv or ())
    text = _TRAILER.sub("", shown.strip())
    if not text:
        return None, "an empty healthcheck: the default probe"
    words = text.split()
    tool = words[0].rsplit("/", 1)[-1] if words else ""
    http = _HTTP.search(text)
    local = http is not None and (http.group("host") in ("localhost", "127.0.0.1", "0.0.0.0", "[::1]")
                                  or http.group("host") in own_names)
    if http is not None and local and own_port is not None:
        port = int(http.group("port")) if http.group("port") else (443 if text.startswith("https") else 80)
        fails_on_error = (tool == "curl" and bool(_FAIL_FLAG.search(text))) or tool == "wget" or "urlopen" in text \
            or "httpx" in text or "requests.get" in text
        single = text.count("http://") + text.count("https://") == 1 and not (shell and re.search(r"&&|;|\|", text))
        if port == own_port and fails_on_error and single and not http.group(0).startswith("https"):
            path = http.group("path") or "/"
            tool_name = "urlopen" if "urlopen" in text else tool
            return {"http": path}, f"healthcheck `{shown}` → ready = {{ http = \"{path}\" }} (polled in-process, no " \
                                   f"{tool_name} needed)"
    command = text if shell else shlex.join(health.argv or ())
    if own_port is not None:
        command = re.sub(rf"(?<=:){own_port}(?!\d)", "$PORT", command)
    return {"command": command}, f"healthcheck `{shown}` → ready = {{ command = \"{command}\" }}"


def start_timeout_for(health: HealthDef | None) -> float | None:
    """The readiness deadline the healthcheck's timing implies (None: stackrig's default)."""
    if health is None or health.disabled:
        return None
    if health.start_period is None and health.retries is None and health.interval is None:
        return None
    retries = health.retries if health.retries is not None else 3
    interval = health.interval if health.interval is not None else 30.0
    total = (health.start_period or 0.0) + retries * interval
    return float(max(30.0, min(600.0, total)))
