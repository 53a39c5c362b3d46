"""`stackrig run -- CMD...`: up, run CMD with the stack's env, down; exit with CMD's code."""

from __future__ import annotations

import os
import subprocess
import sys

import click

from ..errors import StackrigError
from ._common import STATE_ENV, Stop, load, trap_signals

__all__ = ["command"]


def command() -> click.Command:
    return run


@click.command("run", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.pass_context
def run(ctx: click.Context, command: tuple[str, ...]) -> None:
    """Bring the stack up, run COMMAND with its env, tear down; exit with COMMAND's code."""
    from ._progress import start

    stack = load(ctx.obj["file"])
    trap_signals()
    runner = None
    code = 1
    shown = 0  # warnings already printed
    try:
        runner, record = start(stack)
        sys.stderr.write(f"stack ready in {record.ready_ms:.0f} ms: "
                         + ", ".join(f"{s.name} {s.url or ''}".strip() for s in record.services) + "\n")
        for warning in record.warnings:
            sys.stderr.write(f"warning: {warning}\n")
        shown = len(record.warnings)
        child_env = dict(os.environ)
        child_env.update(record.env)
        child_env[STATE_ENV] = str(runner.state_path)
        try:
            child = subprocess.Popen(list(command), env=child_env)
        except FileNotFoundError:
            raise StackrigError(f"command not found: {command[0]}",
                                hint="check the command after `--`; it runs with the stack's env") from None
        try:
            code = child.wait()
        except (KeyboardInterrupt, Stop):
            child.send_signal(2)  # SIGINT
            try:
                code = child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
                code = child.wait()
            code = 130
        if code < 0:
            code = 128 - code
    except (KeyboardInterrupt, Stop):
        code = 130
    finally:
        if runner is not None:
            runner.down()
            for warning in (runner.ctx.warnings if runner.ctx else [])[shown:]:
                sys.stderr.write(f"warning: {warning}\n")
    ctx.exit(code)
