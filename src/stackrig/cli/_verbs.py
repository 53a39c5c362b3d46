"""The CLI's verbs: name, module, one-line help — listed here so `stackrig --help` needs no module."""

from __future__ import annotations

__all__ = ["VERBS", "HELP", "USAGE"]

# (name, module under stackrig.cli, one-line help, hidden)
VERBS: list[tuple[str, str, str, bool]] = [
    ("up", "up", "Bring the stack up and show its services; Ctrl-C (or `stackrig down`) stops it.", False),
    ("down", "down", "Stop the stack that `stackrig up -d` started.", False),
    ("status", "status", "Show the running stack's services (--json for scripts).", False),
    ("env", "env", "Print the running stack's exported variables (`eval \"$(stackrig env)\"`).", False),
    ("logs", "logs", "Show service logs of the running stack (or of the last run).", False),
    ("reset", "reset", "Reset the running stack's data, stubs, mailboxes and faults, as between two tests.", False),
    ("run", "run", "Bring the stack up, run COMMAND with its env, tear down; exit with COMMAND's code.", False),
    ("doctor", "doctor", "Show where each binary comes from, and check the machine.", False),
    ("kinds", "kinds", "List the service kinds installed (built-in and from other packages).", False),
    ("load", "load", "Run a Locust file headless against a service; check k6-style thresholds (exit 99).", False),
    ("report", "report", "Merge CI shards' reports, or runners' JUnit files, into one.", False),
    ("scan", "scan", "Scan a service for security flaws through its OpenAPI schema (exit 1 on findings).", False),
    ("ci", "ci", "Write a CI pipeline (GitHub Actions, GitLab CI) for the stack, optionally sharded.", False),
    ("pact", "pact", "Contracts: verify pact files against a service of the stack; show what they hold.", False),
    ("import", "import_", "Write the stackrig.toml of a docker-compose file (`stackrig import compose FILE`).", False),
    ("init", "init", "Write a commented starter stackrig.toml.", False),
    ("_serve", "serve", "Internal: own a detached stack until SIGTERM.", True),
]

USAGE = "Usage: stackrig [OPTIONS] COMMAND [ARGS]..."

HELP = """\
Usage: stackrig [OPTIONS] COMMAND [ARGS]...

  Declare a stack in stackrig.toml; bring it up as real local processes; test
  against it.

Options:
  -f, --file FILE  The stack file (default: stackrig.toml, or pyproject.toml
                   with [tool.stackrig], here or in a parent folder, else a
                   docker-compose.test.yml or compose.yaml; also
                   $STACKRIG_FILE).
  --strict-versions
                   Refuse a compose image's tag when that version is not
                   installed (default: the nearest runs, with a warning).
  --version        Show the version and exit.
  -h, --help       Show this message and exit.

Commands:
{commands}

`stackrig COMMAND --help` tells more.
"""


def render_help() -> str:
    width = max(len(name) for name, _, _, hidden in VERBS if not hidden)
    lines = [f"  {name:<{width}}  {text}" for name, _, text, hidden in VERBS if not hidden]
    return HELP.format(commands="\n".join(lines))
