"""The live start-up table (rich), on a terminal."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from ..run import ServiceEvent
from ._progress import describe

__all__ = ["LiveProgress"]

_STYLE = {"pending": "dim", "waiting": "yellow", "starting": "cyan", "ready": "green", "failed": "bold red",
          "skipped": "dim", "stopping": "yellow", "stopped": "dim"}


class LiveProgress:
    """Per-service start-up state as a live table on stderr."""

    def __init__(self, services: Iterable[str], console: Console | None = None) -> None:
        self.console = console or Console(stderr=True, highlight=False)
        self.state: dict[str, ServiceEvent] = {n: ServiceEvent(n, "pending") for n in services}
        self._lock = threading.Lock()
        self._live: Live | None = None

    def _render(self) -> Table:
        table = Table(box=None, show_header=False, title=None, padding=(0, 2))
        for name, ev in self.state.items():
            table.add_row(Text(name, style="bold"), Text(describe(ev), style=_STYLE.get(ev.state, "")))
        return table

    def __enter__(self) -> LiveProgress:
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
