"""`stackrig env [--json]`: the running stack's exported variables (``eval "$(stackrig env)"``)."""

from __future__ import annotations

import json
import shlex
import sys

from ..errors import StackrigError
from ._common import STATE_ENV, fail, running

TYPE_CHECKING = False
if TYPE_CHECKING:
    import click

__all__ = ["command", "run_env"]


def run_env(file: str | None, as_json: bool) -> int:
    try:
        record = running(file)
    except StackrigError as exc:
        fail(exc)
    variables = dict(record.env)
    variables[STATE_ENV] = record.state_path
    if as_json:
        sys.stdout.write(json.dumps(variables, indent=2) + "\n")
    else:
        sys.stdout.write("".join(f"export {key}={shlex.quote(value)}\n" for key, value in variables.items()))
    return 0


def command() -> click.Command:
    import click

    @click.command("env")
    @click.option("--json", "as_json", is_flag=True, help="Print the variables as a JSON object.")
    @click.pass_context
    def env(ctx: click.Context, as_json: bool) -> None:
        """Print the running stack's exported variables (`eval "$(stackrig env)"`)."""
        ctx.exit(run_env(ctx.obj["file"], as_json))

    return env

