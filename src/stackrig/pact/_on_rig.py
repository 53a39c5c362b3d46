"""Verification over a running stack: the provider's URL, the states module, the broker's taps and
the per-test reset, taken from a :class:`~stackrig.Rig` (duck-typed: this engine does not import
the rig layer; the CLI, the pytest plugin and ``Rig.pact_verify`` hand it theirs)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from ._errors import ProviderUnreachable
from ._report import VerificationReport
from ._states import StateRegistry, load_states, registry
from ._verify import verify_pacts

__all__ = ["STATES_ENV", "StatesArg", "configured_states", "states_for", "verify_with_rig"]

STATES_ENV = "STACKRIG_PACT_STATES"  # the states module(s), comma-separated, until [stackrig] pact_states
StatesArg = str | ModuleType | StateRegistry | Sequence[str | ModuleType | StateRegistry] | None


def configured_states(stack: Any, provider: str | None) -> list[str]:
    """The states module(s) a stack file (a :class:`~stackrig.config.StackFile`) names: the provider
    service's ``pact_states``, else ``[stackrig] pact_states`` (a string or a list)."""
    if stack is None:
        return []
    found: Any = None
    services = getattr(stack, "services", {})
    if provider is not None and provider in services:
        found = getattr(services[provider], "pact_states", None)
    if found is None:
        found = getattr(getattr(stack, "settings", None), "pact_states", None)
    if not found:
        return []
    return [found] if isinstance(found, str) else [str(f) for f in found]


def states_for(states: StatesArg, root: Path | None, configured: Sequence[str] = ()) -> StateRegistry:
    """The registry a verification uses: `states` as given (module names, .py paths relative to
    `root`, modules, registries); else the stack's configured module(s) (`configured`, then
    ``$STACKRIG_PACT_STATES``) plus whatever this process registered already (a test file's own)."""
    if states is None:
        names = list(configured) or [s.strip() for s in os.environ.get(STATES_ENV, "").split(",") if s.strip()]
        return load_states(names, root) + registry if names else registry
    items = [states] if isinstance(states, str | ModuleType | StateRegistry) else list(states)
    return load_states(items, root)


def verify_with_rig(rig: Any, pacts: Sequence[str | Path], *, provider: str, states: StatesArg = None,
                    broker: str | None = None, reset: Callable[[], object] | None = None,
                    configured_states: Sequence[str] = (), root: Path | None = None,
                    **options: Any) -> VerificationReport:
    """Verify `pacts` against service `provider` of the stack `rig` runs (see :func:`verify_pacts`
    for `options`).  State and trigger functions may ask for ``rig``, ``env`` (the stack's exported
    variables), ``url`` (the provider's) and ``services`` (name -> URL)."""
    handle = rig[provider]  # ServiceNotFound names the services
    if not handle.running:
        raise ProviderUnreachable(f"the provider '{provider}' is not running (it was stopped, or it exited)",
                                  service=provider, url=handle.url,
                                  hint=f"start it again (rig['{provider}'].start()) or look at its log: "
                                       f"{getattr(handle, 'log_path', '')}")
    if root is None:
        stack_file = getattr(getattr(rig, "record", None), "stack_file", "")
        root = Path(stack_file).parent if stack_file else Path.cwd()
    registry_used = states_for(states, root, configured_states)
    taps = None
    if broker is not None:
        events = rig.client(broker, "events")  # a clear error when the broker offers no taps

        def taps(pattern: str) -> Any:
            return events.tap(pattern)

    context = {"rig": rig, "env": rig.env, "services": {n: h.url for n, h in rig.services.items()}}
    return verify_pacts(pacts, url=handle.url, states=registry_used, service=provider, reset=reset, taps=taps,
                        context=context, **options)
