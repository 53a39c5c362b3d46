"""`stackrig init`: write a commented starter stackrig.toml."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import StackrigError

__all__ = ["command", "STARTER"]

STARTER = '''\
# stackrig.toml — the services your tests need, as real local processes.
# Docs: docs/stack-file.md.  Check it with `stackrig doctor`; start it with `stackrig up`.

[services.db]
kind = "postgres"
# version = "16"                     # a constraint: "16", ">=14", ">=14,<17"
database = "app"
# init = ["schema.sql"]              # SQL files or a command (`alembic upgrade head`), run once and cached
export = { DATABASE_URL = "${url}" } # published to dependents and to the test process

[services.cache]
kind = "redis"
export = { REDIS_URL = "${url}" }

# The app under test: any command in any language.  ${self.port} is a free port.
# [services.api]
# kind = "process"
# command = "${python} -m uvicorn myapp:app --host 127.0.0.1 --port ${self.port}"
# depends_on = ["db", "cache"]
# ready = { http = "/health" }
# export = { API_URL = "${url}" }
'''


def command() -> click.Command:
    return init


@click.command("init")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.pass_context
def init(ctx: click.Context, force: bool) -> None:
    """Write a commented starter stackrig.toml."""
    path = Path(ctx.obj["file"] or "stackrig.toml")
    if path.exists() and not force:
        raise StackrigError(f"{path} already exists", hint="pass --force to overwrite it")
    path.write_text(STARTER)
    click.echo(f"wrote {path}; next: `stackrig doctor`, then `stackrig up`", err=True)
