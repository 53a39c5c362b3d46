"""`stackrig status [--json]`: the running stack's services.

Kept light (no click, no rich, no parser): it runs on every shell prompt that shows the stack.
"""

from __future__ import annotations

import sys

from ..errors import StackNotRunning, StackrigError
from ._common import fail, project_dir

TYPE_CHECKING = False
if TYPE_CHECKING:
    import click

__all__ = ["command", "run_status"]


def run_status(file: str | None, as_json: bool) -> int:
    """Print the status; return the exit code (3: no stack running, with --json)."""
    from ..run._current import read_current

    try:
        project = project_dir(file)
    except StackrigError as exc:
        fail(exc)
    record = read_current(project)
    if as_json:
        import json

        sys.stdout.write(json.dumps({"running": record is not None, "stack": record.to_json() if record else None},
                                    indent=2) + "\n")
        return 0 if record is not None else 3
    if record is None:
        fail(StackNotRunning(f"no stack is running for {project}", hint="start one with `stackrig up -d`"))
    from ._table import print_services

    print_services(record)
    return 0


def command() -> click.Command:
    import click

    @click.command("status")
    @click.option("--json", "as_json", is_flag=True, help="Print the run record as JSON (exit 3 when none runs).")
    @click.pass_context
    def status(ctx: click.Context, as_json: bool) -> None:
        """Show the running stack's services."""
        ctx.exit(run_status(ctx.obj["file"], as_json))

    return status

