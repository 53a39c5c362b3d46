"""Start-up progress: a live rich table on a terminal, plain lines otherwise (CI logs, pipes).

rich is imported only for the live table, so `stackrig run` in CI does not pay for it.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

from ..config import StackFile
from ..run import RunRecord, ServiceEvent, StackRunner
from ._common import style

__all__ = ["LINE_STATES", "PlainProgress", "describe", "start"]

LINE_STATES = ("ready", "failed", "starting", "waiting", "skipped")
_CODES = {"waiting": "33", "starting": "36", "ready": "32", "failed": "1;31", "skipped": "2"}


def describe(event: ServiceEvent) -> str:
    return {
        "pending": "pending",
        "waiting": f"waiting on {event.detail}",
        "starting": "starting",
        "ready": f"ready in {event.elapsed_ms:.0f} ms",
        "failed": f"failed: {event.detail}",
        "skipped": "skipped",
        "stopping": "stopping",
        "stopped": "stopped",
    }.get(event.state, event.state)


class PlainProgress:
    """One line per start-up event on stderr."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def __call__(self, event: ServiceEvent) -> None:
        if event.state not in LINE_STATES:
            return
        with self._lock:
            text = f"  {event.service}: {describe(event)}"
            sys.stderr.write(style(text, _CODES.get(event.state, "0"), sys.stderr) + "\n")
            sys.stderr.flush()


def progress_for(stack: StackFile) -> Callable[[ServiceEvent], None]:
    if sys.stderr.isatty():
        from ._display import LiveProgress

        return LiveProgress(stack.services)
    return PlainProgress()


def start(stack: StackFile, serve: bool = True) -> tuple[StackRunner, RunRecord]:
    """Bring `stack` up with progress on stderr; return (runner, record).  `serve`: answer `reset`
    on the control channel (`stackrig reset`, a Jest helper)."""
    progress = progress_for(stack)
    runner = StackRunner(stack, on_event=progress)
    if serve:
        from ..rig import serve_resets

        serve_resets(runner)
    with progress:  # type: ignore[attr-defined]
        record = runner.up()
    return runner, record
