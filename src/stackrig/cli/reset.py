"""`stackrig reset [SERVICE...]`: put the running stack back to its baseline, as between two pytest
tests (data, stubs, mailboxes, faults) — for other test runners' `afterEach`.

Light (no click on the quick path): the stack's owner does the work, over its control channel.
"""

from __future__ import annotations

import os
import sys

from ..errors import StackNotRunning, StackrigError
from ._common import STATE_ENV, fail, running

TYPE_CHECKING = False
if TYPE_CHECKING:
    import click

    from ..run import RunRecord

__all__ = ["command", "run_reset"]


def _record(file: str | None) -> RunRecord:
    state = os.environ.get(STATE_ENV)
    if state:  # inside `stackrig run -- CMD`: the run that CMD belongs to
        from ..run._record import RunRecord

        try:
            record = RunRecord.load(state)
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise StackNotRunning(f"{STATE_ENV}={state} names no readable run record ({exc})",
                                  hint="unset it, or run the command under `stackrig run`") from None
        if record.alive():
            return record
    return running(file)


def run_reset(file: str | None, services: list[str], as_json: bool = False) -> int:
    from ..run._control import control_call

    try:
        record = _record(file)
        if not record.control:
            raise StackNotRunning(f"run {record.run_id} has no control channel", hint="start it with stackrig")
        reply = control_call(record.control, {"op": "reset", "services": services or None})
    except StackrigError as exc:
        fail(exc)
    if as_json:
        import json

        sys.stdout.write(json.dumps(reply) + "\n")
    else:
        reset = ", ".join(reply.get("reset") or []) or "nothing to reset"
        sys.stderr.write(f"reset {reset} in {reply.get('ms', 0):.1f} ms\n")
    return 0


def command() -> click.Command:
    import click

    @click.command("reset")
    @click.argument("services", nargs=-1)
    @click.option("--json", "as_json", is_flag=True, help="Print the owner's answer as JSON.")
    @click.pass_context
    def reset(ctx: click.Context, services: tuple[str, ...], as_json: bool) -> None:
        """Reset the running stack's data, stubs, mailboxes and faults, as between two tests."""
        ctx.exit(run_reset(ctx.obj["file"], list(services), as_json))

    return reset
