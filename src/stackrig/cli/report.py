"""`stackrig report merge` and `stackrig report junit`: one report (or one JUnit file) of several runs."""

from __future__ import annotations

import click

__all__ = ["command"]


def command() -> click.Command:
    return report


@click.group("report")
def report() -> None:
    """The run's report: merge CI shards' reports, or runners' JUnit files."""


@report.command("merge")
@click.argument("shards", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", default="report.html", show_default=True, help="The merged report (and its .json).")
def merge(shards: tuple[str, ...], output: str) -> None:
    """Join the report.json files of CI shards into one report (every test once)."""
    from ..report import load_report, merge_reports, write_report

    html, data = write_report(merge_reports([load_report(p) for p in shards]), output)
    click.echo(f"{html} ({data.name})", err=True)


@report.command("junit")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", required=True, help="The merged JUnit XML file.")
def junit(files: tuple[str, ...], output: str) -> None:
    """Merge JUnit files (pytest, jest-junit) and `go test -json` streams (.json) into one."""
    from ..report import merge_junit

    merge_junit(list(files), output)
    click.echo(output, err=True)
