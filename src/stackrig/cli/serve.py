"""`stackrig _serve` (internal): own a detached stack until SIGTERM, reporting progress as JSON lines."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from typing import Any

import click

from ..errors import StackrigError
from ..run import ServiceEvent, StackRunner, clear_current, write_current
from ._common import Stop, load, trap_signals

__all__ = ["command"]


def command() -> click.Command:
    return serve


@click.command("_serve", hidden=True)
@click.pass_context
def serve(ctx: click.Context) -> None:
    """Internal: own a detached stack until SIGTERM."""
    trap_signals()
    lock = threading.Lock()

    def send(obj: dict[str, Any]) -> None:
        with lock:
            try:
                sys.stdout.write(json.dumps(obj) + "\n")
                sys.stdout.flush()
            except (BrokenPipeError, ValueError):
                pass

    def on_event(e: ServiceEvent) -> None:
        send({"type": "event", "event": e.__dict__})

    runner = None
    try:
        stack = load(ctx.obj["file"])
        runner = StackRunner(stack, on_event=on_event)
        from ..rig import serve_resets

        serve_resets(runner)
        runner.up()
        write_current(stack.root, runner.state_path, runner.run_id)
        send({"type": "ready"})
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        while True:
            time.sleep(3600)
    except StackrigError as exc:  # crosses to the `up -d` that waits, with its class and fields
        send({"type": "error", "error": exc.to_payload()})
        sys.exit(1)
    except (KeyboardInterrupt, Stop):
        pass
    finally:
        if runner is not None:
            runner.down()
            clear_current(runner.stack.root, runner.run_id)
