"""The `stackrig` command line: one module per verb, imported only when that verb runs.

``stackrig --help``, ``status``, ``env``, ``reset`` and ``run -- CMD`` answer without click (the first
three without the stack-file parser either): they run on every shell prompt, in scripts and in
CI loops.  Everything else — and ``--help`` of every verb — goes through the click application
in :mod:`._app`.
"""

from __future__ import annotations

import os
import sys

__all__ = ["main"]

_QUICK = {"status", "env"}


def _quick(argv: list[str]) -> int | None:
    """Answer the quick forms directly; None when click must parse `argv`."""
    file = os.environ.get("STACKRIG_FILE") or None
    args = list(argv)
    while args and args[0].startswith("-"):
        opt = args[0]
        if opt in ("-h", "--help") and len(args) == 1:
            from ._verbs import render_help

            sys.stdout.write(render_help())
            return 0
        if opt in ("-f", "--file") and len(args) >= 2:
            file = args[1]
            args = args[2:]
        elif opt.startswith("--file="):
            file = opt.split("=", 1)[1]
            args = args[1:]
        elif opt == "--strict-versions":
            os.environ["STACKRIG_STRICT_VERSIONS"] = "1"
            args = args[1:]
        else:
            return None
    if not args:
        from ._verbs import render_help

        sys.stdout.write(render_help())
        return 0
    verb, rest = args[0], args[1:]
    if verb == "run":
        if rest[:1] == ["--"]:
            rest = rest[1:]
        elif not rest or rest[0].startswith("-"):
            return None  # `run --help`, a mistake: click says it
        from .run import run_command

        return run_command(file, rest)
    if verb == "reset" and not any(a.startswith("-") and a != "--json" for a in rest):
        from .reset import run_reset

        return run_reset(file, [a for a in rest if a != "--json"], "--json" in rest)
    if verb not in _QUICK or any(a not in ("--json",) for a in rest):
        return None
    as_json = "--json" in rest
    if verb == "status":
        from .status import run_status

        return run_status(file, as_json)
    from .env import run_env

    return run_env(file, as_json)


_OWN_F = {"logs"}  # verbs whose own `-f` means something else (`logs -f`: follow)


def hoist_global_options(argv: list[str]) -> list[str]:
    """`stackrig run -f compose.yml -- pytest` as `stackrig -f compose.yml run -- pytest`: the stack
    file (and --strict-versions) may follow the verb too, as in `docker compose`'s habits; never
    after `--` (that is the command's)."""
    i = 0
    while i < len(argv) and argv[i].startswith("-"):  # the global options before the verb
        i += 2 if argv[i] in ("-f", "--file") else 1
    if i >= len(argv):
        return argv
    verb, head, tail = argv[i], list(argv[:i]), list(argv[i + 1:])
    end = tail.index("--") if "--" in tail else len(tail)
    moved: list[str] = []
    rest: list[str] = []
    j = 0
    while j < end:
        arg = tail[j]
        if (arg == "--file" or (arg == "-f" and verb not in _OWN_F)) and j + 1 < end:
            moved += ["--file", tail[j + 1]]
            j += 2
            continue
        if arg.startswith("--file=") or arg == "--strict-versions":
            moved.append(arg)
        else:
            rest.append(arg)
        j += 1
    return [*head, *moved, verb, *rest, *tail[end:]]


def main(argv: list[str] | None = None) -> None:
    """The console script."""
    args = hoist_global_options(sys.argv[1:] if argv is None else list(argv))
    code = _quick(args)
    if code is not None:
        sys.stdout.flush()
        sys.exit(code)
    from ._app import cli

    cli.main(args=args, prog_name="stackrig")
