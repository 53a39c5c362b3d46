"""`stackrig import compose FILE`: write the equivalent commented stackrig.toml of a compose file."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click

from ..errors import StackrigError

__all__ = ["command"]


def command() -> click.Command:
    return import_group


@click.group("import")
def import_group() -> None:
    """Write a stackrig.toml from a file another tool reads."""


@import_group.command("compose")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", default=None,
              help="Where to write (default: stackrig.toml beside FILE; `-` for standard output).")
@click.option("--profile", "profiles", multiple=True, help="A compose profile to activate (repeatable).")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def compose(file: Path, output: str | None, profiles: tuple[str, ...], force: bool) -> None:
    """Write the stackrig.toml equivalent of a docker-compose FILE: each service mapped onto a native
    kind or a local process, with comments saying what was mapped and what was dropped."""
    from ..compose import import_compose

    words = ["stackrig import compose", file.name, *(f"--profile {p}" for p in profiles)]
    text = import_compose(file, profiles=profiles, command=" ".join(words))
    if output == "-":
        sys.stdout.write(text)
        return
    target = Path(output) if output else file.resolve().parent / "stackrig.toml"
    if target.resolve().parent != file.resolve().parent:
        raise StackrigError(f"{target} is not beside {file}: the paths in the stack file are relative to the "
                            "compose file's folder", hint=f"write it into {file.resolve().parent} (or use -o -)")
    if target.exists() and not force:
        raise StackrigError(f"{target} already exists", hint="pass --force to overwrite it, or -o - to print it")
    target.write_text(text)
    services = len(re.findall(r"(?m)^\[services\.[^.\]]+\]$", text))
    click.echo(f"wrote {target} ({services} services); next: `stackrig doctor`, then `stackrig up`", err=True)
