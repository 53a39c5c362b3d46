"""`stackrig load LOCUSTFILE`: a Locust file, headless, against a service of the stack; k6-style thresholds.

The target is ``--host URL``, or ``--service NAME`` of the stack that `stackrig up -d` runs for
this project — or, when none runs, of the stack brought up for the load run and down after it (as
`stackrig run` does). Exit codes: 0 when every threshold holds, 99 (k6's) when one fails, 2 for a
bad argument (a threshold that does not parse, a missing or unusable Locust file, an unknown
service, no target), 1 when the run itself failed, 130 when interrupted.
"""

from __future__ import annotations

import json
import os
import sys

from ..errors import ConfigError, ServiceNotFound, StackrigError
from ._common import Stop, exit_code, print_error, trap_signals
from ._target import HttpTarget

TYPE_CHECKING = False
if TYPE_CHECKING:
    import click

    from ..load import LoadResult
    from ..run import StackRunner

__all__ = ["command", "run_load_command", "THRESHOLDS_FAILED"]

THRESHOLDS_FAILED = 99  # k6's exit code when thresholds are crossed


def _project(file: str | None, strict: bool) -> str | None:
    """The stack file's folder, or None when there is none (only --host can work then); a named file
    that is not there is an error unless `strict` is off (--host needs no stack)."""
    from ._common import project_dir

    try:
        return project_dir(file)
    except ConfigError:
        if file and strict:
            raise
        return None


def _no_http(service: str, url: str) -> StackrigError:
    from ..load import LoadArgumentError

    return LoadArgumentError(f"service '{service}' has no HTTP URL (its URL: {url})",
                             hint="a load run needs a service that answers HTTP, or --host URL")


TARGET = HttpTarget("this run", "pass --service NAME of a service with a URL", _no_http)


def _target(file: str | None, project: str | None, service: str | None,
            ) -> tuple[str, StackRunner | None, str]:
    """(URL, the runner when the stack was brought up for this run, a description)."""
    from ..load import LoadArgumentError
    from ..run._current import read_current

    record = read_current(project) if project else None
    if record is not None and service is None:
        http = [s.name for s in record.services if s.url.startswith(("http://", "https://"))]
        if len(http) != 1:
            raise LoadArgumentError("name the service to load: --service NAME, or --host URL",
                                    hint=f"services with an HTTP URL in the running stack ({record.run_id}): "
                                         f"{', '.join(http) or 'none'}")
        service = http[0]
    if service is None:
        raise LoadArgumentError(f"no stack is running for {project or os.getcwd()} and no --host given",
                                hint="pass --host URL; or --service NAME to bring the stack up for the run; "
                                     "or start it with `stackrig up -d`")
    return TARGET.resolve(record, file, service)


def _out_dir(out: str | None, project: str | None) -> str:
    if out:
        return out
    import time

    from .._paths import RUNTIME_DIR

    base = os.path.join(project or os.getcwd(), RUNTIME_DIR, "load", time.strftime("%Y%m%d-%H%M%S"))
    folder, n = base, 1
    while os.path.exists(folder):
        n += 1
        folder = f"{base}-{n}"
    return folder


def _report(result: LoadResult, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n")
        for warning in result.warnings:
            sys.stderr.write(f"warning: {warning}\n")
    else:
        sys.stdout.write(result.render() + "\n")
    sys.stdout.flush()
    if result.out:
        sys.stderr.write(f"results in {result.out} (result.json, charts, locust.log)\n")
    failed = result.failed
    if failed:
        sys.stderr.write(f"{len(failed)} of {len(result.thresholds)} thresholds failed: "
                         + "; ".join(t.expr for t in failed) + "\n")


def run_load_command(file: str | None, locustfile: str, *, service: str | None = None, host: str | None = None,
                     users: int = 10, spawn_rate: float | None = None, duration: str = "10s",
                     thresholds: tuple[str, ...] = (), as_json: bool = False, out: str | None = None) -> int:
    """The verb, without click: print the table (or JSON); return the exit code."""
    from ..load import LoadArgumentError, LocustfileError, parse_duration, parse_thresholds, run_load

    runner: StackRunner | None = None
    code = 1
    try:
        parse_thresholds(thresholds)  # before a stack is brought up for nothing
        parse_duration(duration)
        if service and host:
            raise LoadArgumentError("--service and --host both given", hint="pick one: the URL comes from either")
        if not os.path.isfile(locustfile):
            raise LocustfileError(f"no Locust file at {locustfile}", file=locustfile,
                                  hint="pass the path of an existing locustfile.py (relative to the current folder)")
        trap_signals()
        project = _project(file, strict=not host)
        if host:
            target, what = host, "--host"
        else:
            target, runner, what = _target(file, project, service)
        folder = _out_dir(out, project)
        sys.stderr.write(f"load: {locustfile}, {users} users for {duration} against {target} ({what})\n")
        sys.stderr.flush()
        result = run_load(locustfile, target, users=users, spawn_rate=spawn_rate, duration=duration,
                          thresholds=thresholds, out=folder)
        _report(result, as_json)
        code = 0 if result.ok else THRESHOLDS_FAILED
    except (LoadArgumentError, ServiceNotFound, ConfigError) as exc:
        print_error(exc)
        code = 2
    except StackrigError as exc:
        print_error(exc)
        code = exit_code(exc)
    except (KeyboardInterrupt, Stop):
        sys.stderr.write("interrupted; the load run was stopped\n")
        code = 130
    finally:
        if runner is not None:
            runner.down()
    return code


def command() -> click.Command:
    import click

    @click.command("load", context_settings={"help_option_names": ["-h", "--help"]})
    @click.argument("locustfile")
    @click.option("-s", "--service", help="The service whose URL to load (from the running stack, or a stack "
                                          "brought up for the run).")
    @click.option("-H", "--host", help="The URL to load instead of a service's (no stack needed).")
    @click.option("-u", "--users", type=click.IntRange(min=1), default=10, show_default=True,
                  help="Concurrent Locust users.")
    @click.option("-r", "--spawn-rate", type=click.FloatRange(min=0, min_open=True),
                  help="Users started per second (default: all within a second).")
    @click.option("-t", "--duration", default="10s", show_default=True, help="How long: 10s, 1m30s, 500ms, 1h.")
    @click.option("--threshold", "thresholds", multiple=True, metavar="EXPR",
                  help="k6 syntax, e.g. 'http_req_duration: p(95)<200' or 'http_req_failed: rate<0.01'; "
                       "repeatable; exit 99 when one fails.")
    @click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
    @click.option("--out", type=click.Path(file_okay=False), help="Folder for result.json, the charts (SVG) and "
                                                                   "the log (default: .stackrig/load/<timestamp>).")
    @click.pass_context
    def load(ctx: click.Context, locustfile: str, service: str | None, host: str | None, users: int,
             spawn_rate: float | None, duration: str, thresholds: tuple[str, ...], as_json: bool,
             out: str | None) -> None:
        """Run LOCUSTFILE headless against a service; check k6-style thresholds (exit 99 when one fails)."""
        ctx.exit(run_load_command((ctx.obj or {}).get("file"), locustfile, service=service, host=host, users=users,
                                  spawn_rate=spawn_rate, duration=duration, thresholds=thresholds,
                                  as_json=as_json, out=out))

    return load
