"""The click application: global options, lazy verbs, errors printed without tracebacks."""

from __future__ import annotations

import importlib
import os
from typing import Any

import click

from ..errors import StackrigError
from ._common import exit_code, print_error
from ._verbs import VERBS, render_help

__all__ = ["cli"]

_MODULES = {name: module for name, module, _, _ in VERBS}


class _Lazy(click.Group):
    """Verbs are loaded from their modules only when invoked; `--help` lists them from `_verbs`."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name, _, _, hidden in VERBS if not hidden]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = _MODULES.get(cmd_name)
        if module is None:
            return None
        found = importlib.import_module(f"{__package__}.{module}")
        command = found.command()
        assert isinstance(command, click.Command)
        return command

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None,
                                                                              list[str]]:
        name = args[0] if args else ""
        if name and name not in _MODULES and not name.startswith("-"):
            import difflib

            close = difflib.get_close_matches(name, self.list_commands(ctx), n=1)
            maybe = f" Did you mean '{close[0]}'?" if close else ""
            ctx.fail(f"No such command '{name}'.{maybe} Commands: {', '.join(self.list_commands(ctx))}.")
        return super().resolve_command(ctx, args)

    def get_help(self, ctx: click.Context) -> str:
        return render_help().rstrip("\n")

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except StackrigError as exc:
            print_error(exc)
            ctx.exit(exit_code(exc))
        except KeyboardInterrupt:
            click.echo("interrupted; everything was stopped", err=True)
            ctx.exit(130)


@click.group(cls=_Lazy, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-f", "--file", "file", type=click.Path(dir_okay=False), envvar="STACKRIG_FILE",
              help="The stack file (default: stackrig.toml or pyproject.toml here or in a parent folder).")
@click.option("--strict-versions", is_flag=True,
              help="Refuse a compose image's tag when that version is not installed (default: the nearest runs).")
@click.version_option(package_name="stackrig")
@click.pass_context
def cli(ctx: click.Context, file: str | None, strict_versions: bool) -> None:
    """Declare a stack in stackrig.toml; bring it up as real local processes; test against it."""
    ctx.ensure_object(dict)
    ctx.obj["file"] = file
    if strict_versions:  # the loader here, `up -d`'s server and `run`'s command all read it
        os.environ["STACKRIG_STRICT_VERSIONS"] = "1"
