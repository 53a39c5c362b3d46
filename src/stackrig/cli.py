"""The `stackrig` command line."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

import click
from rich.console import Console

from ._record import RunRecord
from ._session import clear_current, latest_run, read_current, stop_owner, write_current
from .config import StackFile, find_stack_file, load_stack
from .errors import ConfigError, StackNotRunning, StackrigError

__all__ = ["main", "cli"]

err = Console(stderr=True, highlight=False)
out = Console(highlight=False)

STATE_ENV = "STACKRIG_STATE"


class _Stop(BaseException):
    """Raised in the main thread on SIGTERM/SIGHUP so teardown runs."""


def _raise_stop(signum: int, frame: FrameType | None) -> NoReturn:
    raise _Stop(signum)


def _trap_signals() -> None:
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_stop)


def _stack_path(file: str | None) -> Path:
    if file:
        return Path(file)
    found = find_stack_file()
    if found is None:
        raise ConfigError(
            f"no stackrig.toml (or pyproject.toml with [tool.stackrig]) in {Path.cwd()} or its parents",
            hint="run `stackrig init` to write one, or pass -f/--file PATH")
    return found


def _load(ctx: click.Context) -> StackFile:
    return load_stack(_stack_path(ctx.obj["file"]))


def _project_dir(ctx: click.Context) -> Path:
    return _stack_path(ctx.obj["file"]).resolve().parent


def _running(ctx: click.Context) -> RunRecord:
    record = read_current(_project_dir(ctx))
    if record is None:
        raise StackNotRunning(f"no stack is running for {_project_dir(ctx)}",
                              hint="start one with `stackrig up -d`")
    return record


def _print_table(record: RunRecord) -> None:
    from ._display import services_table

    out.print(services_table(record))


def _up(stack: StackFile) -> tuple[Any, RunRecord]:
    """Bring the stack up with progress on stderr; return (runner, record)."""
    from ._display import Progress
    from ._runner import StackRunner

    progress = Progress(err, stack.services)
    runner = StackRunner(stack, on_event=progress)
    with progress:
        record = runner.up()
    return runner, record


def _print_error(exc: BaseException) -> None:
    from rich.text import Text

    err.print(Text("error: ", style="bold red") + Text(str(exc)), soft_wrap=True)


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except StackrigError as exc:
            _print_error(exc)
            ctx.exit(2 if isinstance(exc, ConfigError) else 1)
        except KeyboardInterrupt:
            err.print("interrupted; everything was stopped")
            ctx.exit(130)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-f", "--file", "file", type=click.Path(dir_okay=False), envvar="STACKRIG_FILE",
              help="The stack file (default: stackrig.toml or pyproject.toml here or in a parent folder).")
@click.version_option(package_name="stackrig")
@click.pass_context
def cli(ctx: click.Context, file: str | None) -> None:
    """Declare a stack in stackrig.toml; bring it up as real local processes; test against it."""
    ctx.ensure_object(dict)
    ctx.obj["file"] = file


@cli.command()
@click.option("-d", "--detach", is_flag=True, help="Start in the background and return when ready.")
@click.pass_context
def up(ctx: click.Context, detach: bool) -> None:
    """Bring the stack up and show its services; Ctrl-C (or `stackrig down`) stops it."""
    stack = _load(ctx)
    existing = read_current(stack.root)
    if existing is not None:
        raise StackrigError(
            f"a stack is already running for {stack.root} (run {existing.run_id}, pid {existing.owner_pid})",
            hint="use it (`stackrig status`), or stop it first with `stackrig down`")
    if detach:
        _up_detached(stack)
        return
    _trap_signals()
    runner = None
    try:
        runner, record = _up(stack)
        write_current(stack.root, runner.state_path, runner.run_id)
        _print_table(record)
        err.print("stack is up; press Ctrl-C or run `stackrig down` to stop it")
        while True:
            time.sleep(3600)
    except (KeyboardInterrupt, _Stop):
        pass
    finally:
        if runner is not None:
            runner.down()
            clear_current(stack.root, runner.run_id)


def _up_detached(stack: StackFile) -> None:
    from ._display import Progress

    proc = subprocess.Popen(
        [sys.executable, "-m", "stackrig.cli", "-f", str(stack.path), "_serve"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
        start_new_session=True, text=True,
    )
    assert proc.stdout is not None
    progress = Progress(err, stack.services)
    try:
        _follow_detached(proc, progress)
    except BaseException:  # Ctrl-C while starting: the background owner tears everything down
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
        raise
    record = read_current(stack.root)
    if record is None:
        raise StackrigError("the background stack process is gone")
    _print_table(record)
    err.print("stack is up in the background; `stackrig down` stops it")


def _follow_detached(proc: subprocess.Popen[str], progress: Any) -> None:
    from ._runner import ServiceEvent

    assert proc.stdout is not None
    with progress:
        for line in proc.stdout:
            msg = json.loads(line)
            if msg["type"] == "event":
                progress(ServiceEvent(**msg["event"]))
            elif msg["type"] == "ready":
                break
            elif msg["type"] == "error":
                proc.wait()
                exc = StackrigError(msg["message"])
                raise exc
        else:
            proc.wait()
            raise StackrigError(f"the background stack process exited with code {proc.returncode} before "
                                "the stack was ready")


@cli.command("_serve", hidden=True)
@click.pass_context
def serve(ctx: click.Context) -> None:
    """Internal: own a detached stack until SIGTERM."""
    from ._runner import ServiceEvent, StackRunner

    _trap_signals()
    lock = threading.Lock()

    def send(obj: dict[str, Any]) -> None:
        with lock:
            try:
                sys.stdout.write(json.dumps(obj) + "\n")
                sys.stdout.flush()
            except (BrokenPipeError, ValueError):
                pass

    def on_event(e: ServiceEvent) -> None:
        send({"type": "event", "event": e.__dict__})

    runner = None
    try:
        stack = _load(ctx)
        runner = StackRunner(stack, on_event=on_event)
        runner.up()
        write_current(stack.root, runner.state_path, runner.run_id)
        send({"type": "ready"})
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        while True:
            time.sleep(3600)
    except StackrigError as exc:
        send({"type": "error", "message": str(exc)})
        sys.exit(1)
    except (KeyboardInterrupt, _Stop):
        pass
    finally:
        if runner is not None:
            runner.down()
            clear_current(runner.stack.root, runner.run_id)


@cli.command()
@click.pass_context
def down(ctx: click.Context) -> None:
    """Stop the stack that `stackrig up` started."""
    record = _running(ctx)
    t0 = time.monotonic()
    stop_owner(record)
    clear_current(_project_dir(ctx), record.run_id)
    err.print(f"stopped stack {record.run_id} in {(time.monotonic() - t0) * 1000:.0f} ms")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the run record as JSON.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Show the running stack's services."""
    record = read_current(_project_dir(ctx))
    if as_json:
        out.print_json(json.dumps({"running": record is not None,
                                   "stack": record.to_json() if record else None}))
        if record is None:
            ctx.exit(3)
        return
    if record is None:
        raise StackNotRunning(f"no stack is running for {_project_dir(ctx)}", hint="start one with `stackrig up -d`")
    _print_table(record)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the variables as a JSON object.")
@click.pass_context
def env(ctx: click.Context, as_json: bool) -> None:
    """Print the running stack's exported variables (`eval "$(stackrig env)"`)."""
    record = _running(ctx)
    variables = dict(record.env)
    variables[STATE_ENV] = str(Path(record.logs_dir).parent / "state.json")
    if as_json:
        click.echo(json.dumps(variables, indent=2))
        return
    for key, value in variables.items():
        click.echo(f"export {key}={shlex.quote(value)}")


@cli.command()
@click.argument("service", required=False)
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines.")
@click.option("-n", "--lines", default=50, show_default=True, help="How many lines to show first.")
@click.pass_context
def logs(ctx: click.Context, service: str | None, follow: bool, lines: int) -> None:
    """Show service logs of the running stack (or of the last run)."""
    from ._process import tail

    project = _project_dir(ctx)
    record = read_current(project) or latest_run(project)
    if record is None:
        raise StackNotRunning(f"no run found for {project}", hint="start one with `stackrig up`")
    services = record.services
    if service is not None:
        services = [s for s in services if s.name == service]
        if not services:
            raise StackrigError(f"no service named '{service}' in run {record.run_id}; services: "
                                f"{', '.join(s.name for s in record.services)}")
    prefix = len(services) > 1
    offsets: dict[str, int] = {}
    for s in services:
        text = tail(Path(s.log), lines)
        for line in text.splitlines():
            click.echo(f"{s.name} | {line}" if prefix else line)
        try:
            offsets[s.name] = Path(s.log).stat().st_size
        except OSError:
            offsets[s.name] = 0
    while follow:
        time.sleep(0.1)
        for s in services:
            try:
                with open(s.log, "rb") as fh:
                    fh.seek(offsets[s.name])
                    chunk = fh.read()
            except OSError:
                continue
            if chunk:
                offsets[s.name] += len(chunk)
                for line in chunk.decode(errors="replace").splitlines():
                    click.echo(f"{s.name} | {line}" if prefix else line)


@cli.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.pass_context
def run(ctx: click.Context, command: tuple[str, ...]) -> None:
    """Bring the stack up, run COMMAND with its env, tear down; exit with COMMAND's code."""
    stack = _load(ctx)
    _trap_signals()
    runner = None
    code = 1
    try:
        runner, record = _up(stack)
        err.print(f"stack ready in {record.ready_ms:.0f} ms: "
                  + ", ".join(f"{s.name} {s.url or ''}".strip() for s in record.services), highlight=False)
        child_env = dict(os.environ)
        child_env.update(record.env)
        child_env[STATE_ENV] = str(runner.state_path)
        try:
            child = subprocess.Popen(list(command), env=child_env)
        except FileNotFoundError:
            raise StackrigError(f"command not found: {command[0]}",
                                hint="check the command after `--`; it runs with the stack's env") from None
        try:
            code = child.wait()
        except (KeyboardInterrupt, _Stop):
            child.send_signal(signal.SIGINT)
            try:
                code = child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
                code = child.wait()
            code = 130
        if code < 0:
            code = 128 - code
    except (KeyboardInterrupt, _Stop):
        code = 130
    finally:
        if runner is not None:
            runner.down()
    ctx.exit(code)


@cli.command()
@click.pass_context
def doctor(ctx: click.Context) -> None:
    """Show where each server binary comes from, and check the machine."""
    from rich.table import Table

    from ._paths import cache_dir
    from ._process import unprivileged_user
    from .providers import INSTALL_HINTS, SERVER_KINDS, binary_version, candidates, find_binary

    stack: StackFile | None = None
    try:
        stack = _load(ctx)
    except ConfigError as exc:
        if ctx.obj["file"] or find_stack_file() is not None:
            raise
        err.print(f"(no stack file: {exc.message})")
    table = Table(title="server binaries (first match wins)", title_justify="left")
    for col in ("kind", "source", "version", "path"):
        table.add_column(col)
    problems = 0
    for kind in SERVER_KINDS:
        found = candidates(kind)
        if not found:
            table.add_row(kind, "[red]none[/]", "-", f"fix: {INSTALL_HINTS[kind]}")
        for exe, source in found:
            v = binary_version(exe)
            table.add_row(kind, source, str(v) if v else "?", str(exe))
    out.print(table)
    if stack is not None:
        for name, spec in stack.services.items():
            if spec.kind in SERVER_KINDS:
                try:
                    b = find_binary(spec.kind, service=name, version=getattr(spec, "version", None),
                                    path=getattr(spec, "path", None), root=stack.root)
                    out.print(f"[green]ok[/]   service {name} ({spec.kind}): {b.source} {b.version} at {b.exe}")
                except StackrigError as exc:
                    problems += 1
                    out.print(f"[red]fail[/] {exc}")
    shm = Path("/dev/shm")
    out.print(f"{'[green]ok[/]  ' if os.access(shm, os.W_OK) else '[yellow]warn[/]'} tmpfs for run data: "
              f"{shm if os.access(shm, os.W_OK) else 'not available, using disk'}")
    user = unprivileged_user()
    if os.geteuid() == 0:
        if user:
            out.print(f"[green]ok[/]   running as root: servers that refuse root run as '{user.name}'")
        else:
            problems += 1
            out.print("[red]fail[/] running as root and no unprivileged user (postgres/nobody) exists; "
                      "set STACKRIG_SERVICE_USER")
    out.print(f"[green]ok[/]   cache: {cache_dir()}")
    for module, why in (("psycopg", "rig.sql()"), ("redis", "rig.redis()"), ("httpx", "rig.http()")):
        try:
            __import__(module)
            out.print(f"[green]ok[/]   {module} installed ({why})")
        except ImportError:
            out.print(f"[yellow]warn[/] {module} not installed: {why} unavailable (pip install {module})")
    if problems:
        ctx.exit(1)


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
# command = "python -m uvicorn myapp:app --host 127.0.0.1 --port ${self.port}"
# depends_on = ["db", "cache"]
# ready = { http = "/health" }
# export = { API_URL = "${url}" }
'''


@cli.command()
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.pass_context
def init(ctx: click.Context, force: bool) -> None:
    """Write a commented starter stackrig.toml."""
    path = Path(ctx.obj["file"] or "stackrig.toml")
    if path.exists() and not force:
        raise StackrigError(f"{path} already exists", hint="pass --force to overwrite it")
    path.write_text(STARTER)
    err.print(f"wrote {path}; next: `stackrig doctor`, then `stackrig up`")


def main() -> None:
    cli(prog_name="stackrig")


if __name__ == "__main__":
    main()
