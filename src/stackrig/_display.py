"""What people see: live start-up progress and the table of ready services."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from ._record import RunRecord, ServiceInfo
from ._runner import ServiceEvent

__all__ = ["Progress", "services_table"]

_STYLE = {
    "pending": ("dim", "pending"),
    "waiting": ("yellow", "waiting on {detail}"),
    "starting": ("cyan", "starting"),
    "ready": ("green", "ready in {ms:.0f} ms"),
    "failed": ("bold red", "failed: {detail}"),
    "skipped": ("dim", "skipped"),
    "stopping": ("yellow", "stopping"),
    "stopped": ("dim", "stopped"),
}


class Progress:
    """Per-service start-up state: a live table on a terminal, one line per event otherwise."""

    def __init__(self, console: Console, services: Iterable[str], *, title: str = "starting") -> None:
        self.console = console
        self.state: dict[str, ServiceEvent] = {n: ServiceEvent(n, "pending") for n in services}
        self.title = title
        self._lock = threading.Lock()
        self._live: Live | None = None
        self._t0 = time.monotonic()

    def _render(self) -> Table:
        table = Table(box=None, show_header=False, title=None, padding=(0, 2))
        for name, ev in self.state.items():
            style, fmt = _STYLE.get(ev.state, ("", ev.state))
            table.add_row(Text(name, style="bold"), Text(fmt.format(detail=ev.detail, ms=ev.elapsed_ms),
                                                         style=style))
        return table

    def __enter__(self) -> Progress:
        if self.console.is_terminal:
            self._live = Live(self._render(), console=self.console, refresh_per_second=20, transient=True)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)
            self._live = None

    def __call__(self, event: ServiceEvent) -> None:
        with self._lock:
            self.state[event.service] = event
            if self._live is not None:
                self._live.update(self._render())
            elif event.state in ("ready", "failed", "starting", "waiting", "skipped"):
                style, fmt = _STYLE.get(event.state, ("", event.state))
                self.console.print(f"  {event.service}: " + fmt.format(detail=event.detail, ms=event.elapsed_ms),
                                   style=style, highlight=False, markup=False)


def _pid_text(info: ServiceInfo) -> str:
    return ",".join(str(p) for p in info.pids) if info.pids else "-"


def services_table(record: RunRecord, *, alive: bool = True) -> Table:
    title = f"stack {record.run_id} ready in {record.ready_ms:.0f} ms" if alive else f"stack {record.run_id} (stopped)"
    table = Table(title=title, title_justify="left")
    for col in ("service", "kind", "url", "port", "pid", "ready"):
        table.add_column(col, no_wrap=col != "url")
    for s in record.services:
        table.add_row(s.name, s.kind, s.url or "-", str(s.port or "-"), _pid_text(s),
                      f"{s.ready_ms:.0f} ms" if s.ready_ms is not None else "-")
    return table
