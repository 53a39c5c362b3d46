"""What a failing test's report says about the stack: service logs during the test, active faults."""

from __future__ import annotations

from ..errors import StackrigError
from ..rig import Rig

__all__ = ["LogMarks", "active_faults"]

_LOG_LINES = 30


class LogMarks:
    """Where each service's log stood when the current test started."""

    def __init__(self) -> None:
        self._offsets: dict[str, int] = {}

    def mark(self, rig: Rig) -> None:
        for name, svc in rig.services.items():
            try:
                self._offsets[name] = svc.log_path.stat().st_size
            except OSError:
                self._offsets[name] = 0

    def since_mark(self, rig: Rig) -> str:
        parts: list[str] = []
        for name, svc in rig.services.items():
            start = self._offsets.get(name)
            lines: list[str] = []
            try:
                with open(svc.log_path, "rb") as f:
                    if start is not None:
                        f.seek(start)
                    else:
                        f.seek(max(0, svc.log_path.stat().st_size - 8192))
                    lines = f.read().decode(errors="replace").splitlines()
            except OSError:
                pass
            shown = lines[-_LOG_LINES:]
            header = f"--- {name} ({svc.kind}, {svc.log_path})"
            if not shown:
                parts.append(f"{header}: nothing logged during the test")
                continue
            more = f" (last {len(shown)} of {len(lines)} lines)" if len(lines) > len(shown) else ""
            parts.append(header + more + "\n" + "\n".join(shown))
        return "\n".join(parts)


def active_faults(rig: Rig) -> str:
    """The proxies that were down or had toxics, as text ('' when none or unknown)."""
    client = rig.faults
    if client is None:
        return ""
    from ..faults import describe_proxies

    try:
        proxies = client.proxies()
    except StackrigError as exc:
        return f"(could not ask the fault proxy: {exc})"
    broken = {n: p for n, p in proxies.items() if not p.get("enabled", True) or p.get("toxics")}
    return describe_proxies(broken) if broken else ""
