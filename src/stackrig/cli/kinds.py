"""`stackrig kinds`: the service kinds installed, where each comes from, what it is."""

from __future__ import annotations

import json

import click

from ..errors import StackrigError
from ..services import registry

__all__ = ["command"]


def command() -> click.Command:
    return kinds


@click.command("kinds")
@click.option("--json", "as_json", is_flag=True, help="Print the kinds as JSON.")
def kinds(as_json: bool) -> None:
    """List the service kinds installed (built-in and from other packages)."""
    reg = registry()
    rows = []
    for name in reg.names():
        try:
            kind = reg.get(name)
            summary, capabilities, docs = kind.summary, list(kind.clients), kind.docs
        except StackrigError as exc:
            summary, capabilities, docs = f"cannot be loaded: {exc.message}", [], ""
        rows.append({"kind": name, "summary": summary, "from": reg.origin(name), "clients": capabilities,
                     "docs": docs})
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    width = max(len(r["kind"]) for r in rows)
    for r in rows:
        click.echo(f"{r['kind']:<{width}}  {r['summary']}")
        click.echo(f"{'':<{width}}  from {r['from']}" + (f"; rig clients: {', '.join(r['clients'])}"
                                                          if r["clients"] else "")
                   + (f"; docs: {r['docs']}" if r["docs"] else ""))
