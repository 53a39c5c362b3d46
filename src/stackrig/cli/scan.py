"""`stackrig scan SERVICE`: a security scan of a service of the stack through its OpenAPI schema.

Schemathesis (as a library) plus stackrig's own checks: SQL injection, reflected XSS, path
traversal, CORS, missing authentication, missing login rate limit, 5xx on malformed input. The
service comes from the stack that `stackrig up -d` runs for this project — or, when none runs, from
the stack brought up for the scan and down after it (as `stackrig run` does). Exit codes: 0 when no
finding is at or above --fail-on (default high), 1 when one is (or the scan itself failed), 2 for a
bad argument (an --auth that is not a header, an unknown severity or check, an unknown service, an
OpenAPI schema that cannot be fetched or parsed), 130 when interrupted.
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

    from ..run import StackRunner
    from ..scan import ScanResult

__all__ = ["command", "run_scan_command"]


def _no_http(service: str, url: str) -> StackrigError:
    from ..scan import ScanArgumentError

    return ScanArgumentError(f"service '{service}' has no HTTP URL (its URL: {url}): "
                             f"a scan needs a service that answers HTTP")


TARGET = HttpTarget("this scan", "pass the name of a service that answers HTTP", _no_http)


def _target(file: str | None, service: str) -> tuple[str, StackRunner | None, str]:
    """(URL, the runner when the stack was brought up for this scan, a description)."""
    from ..run._current import read_current
    from ._common import project_dir

    return TARGET.resolve(read_current(project_dir(file)), file, service)


def _report(result: ScanResult, as_json: bool, fail_on: str) -> None:
    if as_json:
        sys.stdout.write(json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n")
        for note in result.notes:
            sys.stderr.write(f"note: {note}\n")
    else:
        color = not os.environ.get("NO_COLOR") and sys.stdout.isatty()
        sys.stdout.write(result.render(color=color) + "\n")
    sys.stdout.flush()
    failing = result.failing(fail_on)
    if failing:
        sys.stderr.write(f"{len(failing)} finding{'s' if len(failing) > 1 else ''} at or above {fail_on}\n")


def run_scan_command(file: str | None, service: str, *, openapi: str | None = None, auth: tuple[str, ...] = (),
                     as_json: bool = False, fail_on: str = "high", checks: tuple[str, ...] = (),
                     delay: float | None = None, jwt_secret: str | None = None, max_examples: int | None = None,
                     seed: int | None = None, phases: str | None = None) -> int:
    """The verb, without click: print the report (or JSON); return the exit code."""
    from ..scan import ScanArgumentError, parse_auth, parse_checks, parse_severity, run_scan
    from ..scan._run import DEFAULT_DELAY

    runner: StackRunner | None = None
    code = 1
    try:
        level = parse_severity(fail_on)  # every argument before a stack is brought up for nothing
        headers = parse_auth(list(auth))
        kinds = parse_checks(list(checks) if checks else None)
        trap_signals()
        url, runner, what = _target(file, service)
        sys.stderr.write(f"scan: {what} at {url}\n")
        sys.stderr.flush()

        def progress(message: str) -> None:
            sys.stderr.write(message + "\n")
            sys.stderr.flush()

        result = run_scan(url, openapi=openapi, auth=headers, checks=kinds,
                          delay=DEFAULT_DELAY if delay is None else delay, jwt_secret=jwt_secret,
                          max_examples=max_examples, seed=seed, phases=phases.split(",") if phases else None,
                          progress=progress)
        _report(result, as_json, level)
        code = 0 if result.ok(level) else 1
    except (ScanArgumentError, ServiceNotFound, ConfigError) as exc:
        print_error(exc)
        code = 2
    except StackrigError as exc:
        print_error(exc)
        code = exit_code(exc)
    except (KeyboardInterrupt, Stop):
        sys.stderr.write("interrupted; the scan was stopped\n")
        code = 130
    finally:
        if runner is not None:
            runner.down()
    return code


def command() -> click.Command:
    import click

    @click.command("scan", context_settings={"help_option_names": ["-h", "--help"]})
    @click.argument("service")
    @click.option("--openapi", metavar="PATH_OR_URL",
                  help="The OpenAPI schema (JSON or YAML): a file or a URL (default: <service URL>/openapi.json).")
    @click.option("--auth", multiple=True, metavar='"HEADER: VALUE"',
                  help="A header sent with every request, e.g. \"Authorization: Bearer TOKEN\"; repeatable. The "
                       "missing-auth check leaves it out, tampers with it, and (with --jwt-secret) expires it.")
    @click.option("--json", "as_json", is_flag=True, help='Print {"findings": [...]} as JSON.')
    @click.option("--fail-on", default="high", show_default=True, metavar="SEVERITY",
                  help="Exit 1 when a finding is at or above this severity: high, medium or low.")
    @click.option("--checks", multiple=True, metavar="LIST",
                  help="The checks to run, comma-separated or repeated (default: all): sql-injection, xss, "
                       "path-traversal, missing-auth, cors, rate-limit, server-error.")
    @click.option("--delay", type=click.FloatRange(min=0), metavar="SECONDS",
                  help="The sleep the time-based SQL injection payloads ask for (default: 2; 0 turns them off).")
    @click.option("--jwt-secret", metavar="SECRET",
                  help="The HMAC key that signs the --auth JWT: lets missing-auth try an expired copy of it.")
    @click.option("--max-examples", type=click.IntRange(min=1), metavar="N",
                  help="Schemathesis: test cases per operation (default: Schemathesis's).")
    @click.option("--seed", type=int, help="Schemathesis: the random seed, for a run that can be repeated.")
    @click.option("--phases", metavar="LIST",
                  help="Schemathesis: the phases to run, comma-separated (default: examples, coverage, fuzzing, "
                       "stateful).")
    @click.pass_context
    def scan(ctx: click.Context, service: str, openapi: str | None, auth: tuple[str, ...], as_json: bool,
             fail_on: str, checks: tuple[str, ...], delay: float | None, jwt_secret: str | None,
             max_examples: int | None, seed: int | None, phases: str | None) -> None:
        """Scan SERVICE for security flaws through its OpenAPI schema; exit 1 on findings at or above --fail-on."""
        ctx.exit(run_scan_command((ctx.obj or {}).get("file"), service, openapi=openapi, auth=auth, as_json=as_json,
                                  fail_on=fail_on, checks=checks, delay=delay, jwt_secret=jwt_secret,
                                  max_examples=max_examples, seed=seed, phases=phases))

    return scan
