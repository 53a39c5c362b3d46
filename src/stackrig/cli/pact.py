"""`stackrig pact`: contracts — `verify` pacts against a service of the stack, `show` what pacts hold.

``stackrig pact verify PACTS... --provider SERVICE`` checks every pact file first (exit 2 for one
that is not JSON or not a pact, a provider state no function handles, a message with no trigger,
an unknown service), then attaches to the stack `stackrig up -d` runs for this project or brings
it up for the run (and down after), and runs the real Pact verifier against the service's URL —
stackrig serves the provider-state endpoint, resetting the stack's data before every interaction.
Exit 0 when every interaction holds, 1 when one does not (each mismatch printed) or the provider
is not running.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigError, ServiceNotFound, StackrigError
from ._common import Stop, print_error, trap_signals

TYPE_CHECKING = False
if TYPE_CHECKING:
    import click

    from ..config import StackFile
    from ..pact import VerificationReport
    from ..rig import Rig
    from ..run import StackRunner

__all__ = ["command", "run_show", "run_verify"]


def _code(exc: StackrigError) -> int:
    from ..pact import PactUsageError

    return 2 if isinstance(exc, PactUsageError | ServiceNotFound | ConfigError) else 1


def _stack(file: str | None, needed: bool) -> StackFile | None:
    from ._common import load

    try:
        return load(file)
    except ConfigError:
        if needed or file:
            raise
        return None


def _not_found(service: str, names: Sequence[str]) -> ServiceNotFound:
    import difflib

    close = difflib.get_close_matches(service, names, n=1)
    maybe = f" (did you mean '{close[0]}'?)" if close else ""
    return ServiceNotFound(f"no service named '{service}' in the stack{maybe}; services: {', '.join(names)}",
                           service=service, available=list(names), hint="pass --provider NAME of a stack service")


def _attach_or_start(stack: StackFile) -> tuple[Rig, StackRunner | None, Callable[[], object] | None, str]:
    """The running stack (reset over its control channel) or one brought up here (reset in-process)."""
    from ..rig import Resets, Rig
    from ..run import control_call
    from ..run._current import read_current

    record = read_current(stack.root, stack.digest)
    if record is not None:
        rig = Rig(record)
        control = record.control

        def reset_remote() -> None:
            control_call(control, {"op": "reset", "label": "stackrig pact verify"})

        return rig, None, reset_remote if control else None, f"the running stack {record.run_id}"
    from ._progress import start

    runner, started = start(stack)
    rig = Rig(started)
    resets = Resets(stack, rig)

    def reset_here() -> None:
        resets.after("stackrig pact verify")

    return rig, runner, reset_here, "the stack brought up for this run"


def _report(report: VerificationReport, as_json: bool, verbose: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n")
    else:
        if verbose and report.output:
            sys.stdout.write(report.output.rstrip() + "\n\n")
        sys.stdout.write(report.render() + "\n")
    sys.stdout.flush()


def run_verify(file: str | None, pacts: Sequence[str], *, provider: str | None, states: Sequence[str] = (),
               broker: str | None = None, url: str | None = None, provider_name: str | None = None,
               description: str | None = None, message_timeout: float = 5.0, pattern: str | None = None,
               as_json: bool = False, verbose: bool = False) -> int:
    """The verb without click: print the report; return the exit code."""
    os.environ.setdefault("PACT_DO_NOT_TRACK", "true")
    from ..pact import PactUsageError, check_pacts, configured_states, states_for, verify_pacts, verify_with_rig

    runner: StackRunner | None = None
    try:
        if not provider and not url:
            raise PactUsageError("name the provider: --provider SERVICE (or --url URL)",
                                 hint="the service of the stack whose API the pacts describe")
        if broker and not provider:
            raise PactUsageError("--broker needs --provider SERVICE", hint="the broker is a service of the stack")
        stack = _stack(file, needed=not url)
        root = stack.root if stack is not None else Path.cwd()
        if stack is not None and provider and provider not in stack.services:
            raise _not_found(provider, list(stack.services))
        if stack is not None and broker and broker not in stack.services:
            raise _not_found(broker, list(stack.services))
        registry = states_for(list(states) or None, root, configured_states(stack, provider))
        check_pacts(pacts, registry, provider_name=provider_name, broker=bool(broker), description=description)
        options: dict[str, Any] = {"provider_name": provider_name, "description": description,
                                   "message_timeout": message_timeout, "default_pattern": pattern}
        trap_signals()
        if url or stack is None:
            target = url or ""
            sys.stderr.write(f"pact verify: {len(pacts)} source(s) against {target}\n")
            report = verify_pacts(pacts, url=target, states=registry, service=provider or "",
                                  context={"env": dict(os.environ)}, **options)
        else:
            assert provider is not None
            rig, runner, reset, where = _attach_or_start(stack)
            sys.stderr.write(f"pact verify: service '{provider}' of {where}\n")
            sys.stderr.flush()
            try:
                report = verify_with_rig(rig, pacts, provider=provider, states=registry, broker=broker, reset=reset,
                                         root=root, **options)
            finally:
                rig.close()
        _report(report, as_json, verbose)
        return 0 if report.ok else 1
    except StackrigError as exc:
        print_error(exc)
        return _code(exc)
    except (KeyboardInterrupt, Stop):
        sys.stderr.write("interrupted; the verification was stopped\n")
        return 130
    finally:
        if runner is not None:
            runner.down()


def run_show(pacts: Sequence[str], as_json: bool = False) -> int:
    """Print each pact's consumer, provider, version and interactions; exit 2 on a bad file."""
    from ..pact import load_pacts

    try:
        loaded = load_pacts(pacts)
    except StackrigError as exc:
        print_error(exc)
        return _code(exc)
    if as_json:
        data = [{"file": p.path, "consumer": p.consumer, "provider": p.provider, "specification": p.version,
                 "interactions": [{"description": i.description, "type": i.type,
                                   "providerStates": [{"name": s.name, "params": dict(s.params)} for s in i.states]}
                                  for i in p.interactions]} for p in loaded]
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return 0
    for pact in loaded:
        sys.stdout.write(f"{pact.path}: {pact.consumer} -> {pact.provider} (Pact {pact.version}), "
                         f"{len(pact.interactions)} interactions\n")
        for i in pact.interactions:
            kind = "message " if i.is_message else ""
            sys.stdout.write(f"  - {kind}{i.label}\n")
    return 0


def command() -> click.Command:
    import click

    @click.group("pact", context_settings={"help_option_names": ["-h", "--help"]})
    def pact() -> None:
        """Contracts: verify pact files against a service of the stack; show what pact files hold."""

    @pact.command("verify")
    @click.argument("pacts", nargs=-1, required=True)
    @click.option("-p", "--provider", help="The service of the stack the pacts are verified against.")
    @click.option("-s", "--states", "states", multiple=True, metavar="MODULE",
                  help="Provider-states module: a module name or a .py path relative to the stack file "
                       "(repeatable; default: the stack file's pact_states, or $STACKRIG_PACT_STATES).")
    @click.option("-b", "--broker", help="The broker service whose taps see the provider's messages "
                                         "(for message pacts).")
    @click.option("--url", help="Verify this URL instead of a stack's service (no stack, no data reset).")
    @click.option("--provider-name", help="Only the pacts for this provider name (as the pacts spell it).")
    @click.option("--filter", "description", metavar="REGEX", help="Only interactions whose description matches.")
    @click.option("--message-timeout", type=click.FloatRange(min=0, min_open=True), default=5.0, show_default=True,
                  help="Seconds to wait for a message after its trigger.")
    @click.option("--pattern", help="The tap pattern for messages whose metadata names no subject.")
    @click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
    @click.option("-v", "--verbose", is_flag=True, help="Also print the Pact verifier's own output.")
    @click.pass_context
    def verify(ctx: click.Context, pacts: tuple[str, ...], provider: str | None, states: tuple[str, ...],
               broker: str | None, url: str | None, provider_name: str | None, description: str | None,
               message_timeout: float, pattern: str | None, as_json: bool, verbose: bool) -> None:
        """Verify PACTS (files or folders) against --provider SERVICE; exit 1 when an interaction fails."""
        file = (ctx.find_root().obj or {}).get("file")
        ctx.exit(run_verify(file, pacts, provider=provider, states=states, broker=broker, url=url,
                            provider_name=provider_name, description=description, message_timeout=message_timeout,
                            pattern=pattern, as_json=as_json, verbose=verbose))

    @pact.command("show")
    @click.argument("pacts", nargs=-1, required=True)
    @click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
    def show(pacts: tuple[str, ...], as_json: bool) -> None:
        """List the interactions (and their provider states) of PACTS."""
        sys.exit(run_show(pacts, as_json))

    return pact
