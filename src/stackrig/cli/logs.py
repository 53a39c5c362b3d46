"""`stackrig logs [SERVICE] [-f]`: service logs of the running stack, or of the last run."""

from __future__ import annotations

import time
from pathlib import Path

import click

from ..errors import ServiceNotFound, StackNotRunning
from ..run import latest_run, read_current
from ..supervisor import tail
from ._common import project_dir

__all__ = ["command"]


def command() -> click.Command:
    return logs


@click.command("logs")
@click.argument("service", required=False)
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines.")
@click.option("-n", "--lines", default=50, show_default=True, help="How many lines to show first.")
@click.pass_context
def logs(ctx: click.Context, service: str | None, follow: bool, lines: int) -> None:
    """Show service logs of the running stack (or of the last run)."""
    project = project_dir(ctx.obj["file"])
    record = read_current(project) or latest_run(project)
    if record is None:
        raise StackNotRunning(f"no run found for {project}", hint="start one with `stackrig up`")
    services = record.services
    if service is not None:
        services = [s for s in services if s.name == service]
        if not services:
            names = [s.name for s in record.services]
            raise ServiceNotFound(f"no service named '{service}' in run {record.run_id}; services: "
                                  f"{', '.join(names)}", service=service, available=names)
    prefix = len(services) > 1
    offsets: dict[str, int] = {}
    for s in services:
        text = tail(Path(s.log), lines)
        for line in text.splitlines():
            click.echo(f"{s.name} | {line}" if prefix else line)
        try:
            offsets[s.name] = Path(s.log).stat().st_size
        except OSError:
            offsets[s.name] = 0
    while follow:
        time.sleep(0.1)
        for s in services:
            try:
                with open(s.log, "rb") as fh:
                    fh.seek(offsets[s.name])
                    chunk = fh.read()
            except OSError:
                continue
            if chunk:
                offsets[s.name] += len(chunk)
                for line in chunk.decode(errors="replace").splitlines():
                    click.echo(f"{s.name} | {line}" if prefix else line)
