"""The table of a stack's services (`status`, and `up` when ready): plain text, no rich.

`stackrig status` must answer within a few interpreter start-ups, and rich alone costs more
than that to import, so this small renderer draws the table.
"""

from __future__ import annotations

import sys

from ..run._record import RunRecord
from ._common import style

__all__ = ["services_table", "print_services"]

_COLUMNS = ("service", "kind", "url", "port", "pid", "ready")


def _rows(record: RunRecord) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for s in record.services:
        pids = ",".join(str(p) for p in s.pids) if s.pids else "-"
        ready = f"{s.ready_ms:.0f} ms" if s.ready_ms is not None else "-"
        rows.append((s.name, s.kind, s.url or "-", str(s.port or "-"), pids, ready))
    return rows


def services_table(record: RunRecord, *, alive: bool = True, stream: object = None) -> str:
    title = (f"stack {record.run_id} ready in {record.ready_ms:.0f} ms" if alive
             else f"stack {record.run_id} (stopped)")
    rows = _rows(record)
    widths = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c) for i, c in enumerate(_COLUMNS)]

    def line(cells: tuple[str, ...], bold: bool = False) -> str:
        text = "│ " + " │ ".join(cell.ljust(w) for cell, w in zip(cells, widths, strict=True)) + " │"
        return style(text, "1", stream) if bold else text

    rule = "─┼─".join("─" * w for w in widths)
    out = [style(title, "1", stream),
           "┌─" + "─┬─".join("─" * w for w in widths) + "─┐",
           line(_COLUMNS, bold=True),
           "├─" + rule + "─┤"]
    out += [line(r) for r in rows]
    out.append("└─" + "─┴─".join("─" * w for w in widths) + "─┘")
    for warning in record.warnings:
        out.append(style("warning: ", "33", stream) + warning)
    return "\n".join(out)


def print_services(record: RunRecord, *, alive: bool = True) -> None:
    sys.stdout.write(services_table(record, alive=alive, stream=sys.stdout) + "\n")
    sys.stdout.flush()
