"""`stackrig up [-d]`: start the stack with live progress, show its services, stop on Ctrl-C."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

import click

from ..config import StackFile
from ..errors import StackrigError, error_from_payload
from ..run import ServiceEvent, clear_current, read_current, write_current
from ._common import Stop, load, trap_signals
from ._table import print_services

__all__ = ["command"]


def command() -> click.Command:
    return up


@click.command("up")
@click.option("-d", "--detach", is_flag=True, help="Start in the background and return when ready.")
@click.pass_context
def up(ctx: click.Context, detach: bool) -> None:
    """Bring the stack up and show its services; Ctrl-C (or `stackrig down`) stops it."""
    stack = load(ctx.obj["file"])
    existing = read_current(stack.root)
    if existing is not None:
        raise StackrigError(
            f"a stack is already running for {stack.root} (run {existing.run_id}, pid {existing.owner_pid})",
            hint="use it (`stackrig status`), or stop it first with `stackrig down`")
    if detach:
        _up_detached(stack)
        return
    from ._progress import start

    trap_signals()
    runner = None
    try:
        runner, record = start(stack)
        write_current(stack.root, runner.state_path, runner.run_id)
        print_services(record)
        click.echo("stack is up; press Ctrl-C or run `stackrig down` to stop it", err=True)
        while True:
            time.sleep(3600)
    except (KeyboardInterrupt, Stop):
        pass
    finally:
        if runner is not None:
            runner.down()
            clear_current(stack.root, runner.run_id)


def _up_detached(stack: StackFile) -> None:
    from ._progress import progress_for

    proc = subprocess.Popen(
        [sys.executable, "-m", "stackrig.cli", "-f", str(stack.path), "_serve"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
        start_new_session=True, text=True,
    )
    assert proc.stdout is not None
    progress = progress_for(stack)
    try:
        _follow_detached(proc, progress)
    except BaseException:  # Ctrl-C while starting: the background owner tears everything down
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
        raise
    record = read_current(stack.root)
    if record is None:
        raise StackrigError("the background stack process is gone")
    print_services(record)
    click.echo("stack is up in the background; `stackrig down` stops it", err=True)


def _follow_detached(proc: subprocess.Popen[str], progress: Any) -> None:
    assert proc.stdout is not None
    with progress:
        for line in proc.stdout:
            msg = json.loads(line)
            if msg["type"] == "event":
                progress(ServiceEvent(**msg["event"]))
            elif msg["type"] == "ready":
                break
            elif msg["type"] == "error":
                proc.wait()
                raise error_from_payload(msg["error"])
        else:
            proc.wait()
            raise StackrigError(f"the background stack process exited with code {proc.returncode} before "
                                "the stack was ready")
