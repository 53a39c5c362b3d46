"""`stackrig down`: stop the stack that `stackrig up -d` started."""

from __future__ import annotations

import time

import click

from ..run import clear_current, stop_owner
from ._common import project_dir, running

__all__ = ["command"]


def command() -> click.Command:
    return down


@click.command("down")
@click.pass_context
def down(ctx: click.Context) -> None:
    """Stop the stack that `stackrig up -d` started."""
    record = running(ctx.obj["file"])
    t0 = time.monotonic()
    stop_owner(record)
    clear_current(project_dir(ctx.obj["file"]), record.run_id)
    click.echo(f"stopped stack {record.run_id} in {(time.monotonic() - t0) * 1000:.0f} ms", err=True)
