"""`stackrig run -- CMD...`: up, run CMD with the stack's env, down; exit with CMD's code.

`stackrig run -- CMD` is answered without click (see `stackrig.cli`): a CI loop runs it often.
"""

from __future__ import annotations

import os
import subprocess
import sys

from ..errors import StackrigError
from ._common import STATE_ENV, Stop, exit_code, load, print_error, trap_signals

TYPE_CHECKING = False
if TYPE_CHECKING:
    import click

__all__ = ["command", "run_command"]


def run_command(file: str | None, command: list[str], report: str | None = None, junit: str | None = None) -> int:
    """Bring the stack up, run `command` with its env, tear down; return the command's exit code.
    `report`: one report of the run (the stack, and the tests of every pytest session and JUnit file
    the command's runners wrote); `junit`: their JUnit files merged into one."""
    from ._progress import start

    if not command:
        print_error(StackrigError("no command to run", hint="stackrig run -- COMMAND [ARGS...]"))
        return 2
    trap_signals()
    runner = None
    code = 1
    shown = 0  # warnings already printed
    try:
        stack = load(file)
        runner, record = start(stack, serve=True)
        sys.stderr.write(f"stack ready in {record.ready_ms:.0f} ms: "
                         + ", ".join(f"{s.name} {s.url or ''}".strip() for s in record.services) + "\n")
        for warning in record.warnings:
            sys.stderr.write(f"warning: {warning}\n")
        shown = len(record.warnings)
        child_env = dict(os.environ)
        child_env.update(record.env)
        child_env[STATE_ENV] = str(runner.state_path)
        if record.runtime_bin:  # `npm test`, `go test` run on the runtimes the services ran on
            child_env["PATH"] = os.pathsep.join([record.runtime_bin, child_env.get("PATH", os.defpath)])
        collect = runner.run_dir / "collect"
        if report or junit:
            (collect / "junit").mkdir(parents=True, exist_ok=True)
            (collect / "reports").mkdir(parents=True, exist_ok=True)
            child_env["STACKRIG_JUNIT_DIR"] = str(collect / "junit")  # pytest (the plugin), `go test -json >`
            child_env.setdefault("JEST_JUNIT_OUTPUT_DIR", str(collect / "junit"))  # jest-junit's own variable
        if report:
            child_env["STACKRIG_REPORT_DIR"] = str(collect / "reports")
        try:
            child = subprocess.Popen(list(command), env=child_env)
        except FileNotFoundError:
            raise StackrigError(f"command not found: {command[0]}",
                                hint="check the command after `--`; it runs with the stack's env") from None
        try:
            code = child.wait()
        except (KeyboardInterrupt, Stop):
            child.send_signal(2)  # SIGINT
            try:
                code = child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
                code = child.wait()
            code = 130
        if code < 0:
            code = 128 - code
        if report or junit:
            from ._collect import write_collected

            for line in write_collected(collect, runner, report, junit, list(command), code):
                sys.stderr.write(line + "\n")
    except StackrigError as exc:
        print_error(exc)
        code = exit_code(exc)
    except (KeyboardInterrupt, Stop):
        code = 130
    finally:
        if runner is not None:
            runner.down()
            for warning in (runner.ctx.warnings if runner.ctx else [])[shown:]:
                sys.stderr.write(f"warning: {warning}\n")
            for measured in runner.coverage:
                sys.stderr.write(f"coverage: {measured.line()}\n")
    return code


def command() -> click.Command:
    import click

    @click.command("run", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
    @click.option("--report", "report", metavar="PATH", help="Write one report of the run (HTML + .json).")
    @click.option("--junit", "junit", metavar="OUT.xml",
                  help="Merge the JUnit files the command's runners wrote (pytest, jest-junit, go test -json "
                       "in $STACKRIG_JUNIT_DIR) into one.")
    @click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
    @click.pass_context
    def run(ctx: click.Context, report: str | None, junit: str | None, command: tuple[str, ...]) -> None:
        """Bring the stack up, run COMMAND with its env, tear down; exit with COMMAND's code."""
        ctx.exit(run_command(ctx.obj["file"], list(command), report, junit))

    return run
