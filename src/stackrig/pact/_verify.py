"""Provider verification with the real Pact verifier (pact-python's Rust core).

:func:`verify_pacts` reads and checks every pact file first — a file that is not JSON or not a
pact, a provider state no function handles, a message with no trigger: a
:class:`~stackrig.pact.PactUsageError` before anything runs — then checks the provider answers,
serves the state (and message) callbacks from this process (:mod:`._server`, :mod:`._callbacks`),
and runs the verifier against the provider's URL.  The verifier's own text output is kept in the
report (``report.output``), not printed.
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ._callbacks import Callbacks, Note, TapLike
from ._errors import PactError, PactUsageError, ProviderUnreachable, UnknownProviderState, UnknownTrigger
from ._model import Interaction, Pact, expand_sources, load_pact
from ._report import InteractionResult, Mismatch, VerificationReport
from ._server import CallbackServer
from ._states import StateRegistry, registry

__all__ = ["check_pacts", "check_reachable", "load_pacts", "verify_pacts"]

TapFactory = Callable[[str], TapLike]


def load_pacts(sources: Sequence[str | Path], provider_name: str | None = None) -> list[Pact]:
    """Every pact in `sources` (files, folders), checked; only those for `provider_name` when given."""
    if not sources:
        raise PactUsageError("no pact files given", hint="pass pact files or folders of them")
    pacts = [load_pact(p) for p in expand_sources(sources)]
    if provider_name is not None:
        chosen = [p for p in pacts if p.provider == provider_name]
        if not chosen:
            names = ", ".join(sorted({f"'{p.provider}' ({p.path})" for p in pacts}))
            raise PactUsageError(f"no pact given is for the provider '{provider_name}'; they are for {names}",
                                 hint="pass --provider-name with the name the pacts use, or leave it out")
        pacts = chosen
    return pacts


def _check_states(pacts: list[Pact], states: StateRegistry) -> None:
    for pact in pacts:
        for interaction in pact.interactions:
            for state in interaction.states:
                if state.name and states.find_state(state.name, pact.provider) is None:
                    uses = [f"{i.description}" for p in pacts for i in p.interactions
                            if any(s.name == state.name for s in i.states)]
                    files = [p.path for p in pacts for i in p.interactions if any(s.name == state.name
                                                                                  for s in i.states)]
                    raise UnknownProviderState(state.name, registered=states.describe_states(), files=files,
                                               interactions=uses)


def _check_messages(pacts: list[Pact], states: StateRegistry, broker: bool) -> list[Interaction]:
    messages = [i for p in pacts for i in p.messages]
    if messages and not broker:
        raise PactUsageError(f"{messages[0].file} has message interactions ('{messages[0].description}'); checking "
                             "them needs the broker the provider publishes on",
                             hint="pass --broker SERVICE (rig.pact_verify(..., broker=NAME))")
    for pact in pacts:
        for message in pact.messages:
            if states.find_trigger(message.description, pact.provider) is None:
                raise UnknownTrigger(message.description, registered=states.describe_triggers(), file=pact.path)
    return messages


def check_pacts(sources: Sequence[str | Path], states: StateRegistry, *, provider_name: str | None = None,
                broker: bool = True, description: str | None = None) -> list[Pact]:
    """Read and check `sources` before anything runs: every file a pact, every provider state
    handled, every message triggered (and, without a `broker`, no messages): PactUsageError if not."""
    pacts = load_pacts(sources, provider_name)
    if description is not None:
        import re

        keep = re.compile(description)
        for pact in pacts:
            pact.interactions = [i for i in pact.interactions if keep.search(i.description)]
    _check_states(pacts, states)
    _check_messages(pacts, states, broker)
    return pacts


def check_reachable(url: str, service: str, timeout: float = 2.0) -> None:
    """Raise :class:`ProviderUnreachable` unless something accepts connections at `url`."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ProviderUnreachable(f"the provider{_named(service)} has no HTTP URL ({url or 'none'})",
                                  service=service, url=url, hint="verify a service that answers HTTP")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            pass
    except OSError as exc:
        raise ProviderUnreachable(f"the provider{_named(service)} is not running: nothing answers at {url} "
                                  f"({exc.strerror or exc})", service=service, url=url,
                                  hint="start it (stackrig up -d, or let stackrig pact verify bring the stack up)"
                                  ) from None


def _named(service: str) -> str:
    return f" '{service}'" if service else ""


@contextmanager
def _captured_stdout() -> Iterator[None]:
    """The Rust core prints its report to file descriptor 1; keep that out of our output."""
    sys.stdout.flush()
    saved = os.dup(1)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 1)
        try:
            yield
        finally:
            os.dup2(saved, 1)
            os.close(saved)


def _verifier(name: str, host: str) -> Any:
    os.environ.setdefault("PACT_DO_NOT_TRACK", "true")
    try:
        from pact import Verifier
    except ImportError as exc:
        raise PactError(f"verifying pacts needs pact-python (its Rust verifier): {exc}",
                        hint="pip install 'pact-python>=3'") from None
    return Verifier(name, host=host)


def _results(raw: Mapping[str, Any], notes: list[Note]) -> list[InteractionResult]:
    out = []
    for index, item in enumerate(raw.get("interactionResults") or []):
        mismatch = item.get("mismatch") or {}
        found: list[Mismatch] = []
        if mismatch.get("type") == "mismatches":
            found = [Mismatch.from_verifier(m) for m in mismatch.get("mismatches") or []]
        elif mismatch:
            found = [Mismatch("error", str(mismatch.get("message") or mismatch))]
        states = [str(s) for s in item.get("providerStates") or []]
        mine = [n for n in notes if n.index == index]
        if mine:  # our reason first; the verifier's generic "state change failed" adds nothing
            found = [Mismatch(n.kind, n.message) for n in mine] + \
                [m for m in found if not (m.kind == "error" and "state" in m.message.lower())]
        ok = str(item.get("result", "")).upper() == "OK" and not mine
        out.append(InteractionResult(str(item.get("consumer", "")), str(item.get("provider", "")),
                                     str(item.get("description", "")), states, ok, found,
                                     str(item.get("duration", "")), bool(item.get("pending"))))
    return out


def verify_pacts(sources: Sequence[str | Path], *, url: str, states: StateRegistry | None = None,
                 service: str = "", provider_name: str | None = None, reset: Callable[[], object] | None = None,
                 taps: TapFactory | None = None, context: Mapping[str, Any] | None = None,
                 default_pattern: str | None = None, description: str | None = None,
                 message_timeout: float = 5.0, request_timeout: float = 10.0) -> VerificationReport:
    """Verify the pacts in `sources` against the provider at `url`; the report says what held.

    `states`: the provider states and triggers (default: every one registered in this process);
    `reset`: called before each interaction (the stack's per-test reset); `taps`: opens a tap on
    the broker for a subject (needed for message interactions); `context`: what state and trigger
    functions may ask for by name (``rig``, ``env``, ...; ``url`` is always offered);
    `description`: only interactions whose description matches this regex."""
    t0 = time.monotonic()
    states = states if states is not None else registry
    pacts = check_pacts(sources, states, provider_name=provider_name, broker=taps is not None,
                        description=description)
    messages = [i for p in pacts for i in p.messages]
    http = [i for p in pacts for i in p.interactions if not i.is_message]
    if http:
        check_reachable(url, service)
    names = sorted({p.provider for p in pacts})
    callbacks = Callbacks([i for p in pacts for i in p.interactions], names[0] if len(names) == 1 else None,
                          states, {"url": url, **(context or {})}, reset, default_pattern=default_pattern,
                          message_timeout=message_timeout)
    try:
        if taps is not None:
            for message in messages:
                pattern = callbacks.pattern_for(message)
                if pattern is not None and pattern not in callbacks.taps:
                    callbacks.taps[pattern] = taps(pattern)
        host = urlsplit(url).hostname or "127.0.0.1"
        with CallbackServer(callbacks.on_state, callbacks.on_message, host="127.0.0.1") as server:
            verifier = _verifier(names[0] if len(names) == 1 else (service or names[0]), host)
            if http:
                verifier.add_transport(url=url)
            if messages:
                verifier.add_transport(protocol="message", port=server.port, path="/_pact/message")
            for pact in pacts:
                verifier.add_source(pact.path)
            if description is not None:
                verifier.filter(description)
            verifier.state_handler(server.state_url, teardown=True, body=True)
            verifier.set_request_timeout(int(request_timeout * 1000))
            with _captured_stdout():
                try:
                    verifier.verify()
                except RuntimeError:
                    pass  # failed interactions: the results say which
            raw = verifier.results
            output = verifier.output(strip_ansi=True)
        if reset is not None and callbacks.resets:
            reset()  # leave the stack at its baseline, as after a test
    finally:
        for tap in callbacks.taps.values():
            tap.close()
    results = _results(raw, callbacks.notes)
    errors = [str(e) for e in raw.get("errors") or [] if isinstance(e, str)]
    expected = sum(len(p.interactions) for p in pacts)
    if len(results) < expected and not errors:
        errors.append(f"the verifier reported {len(results)} of {expected} interactions; its output:\n{output[-2000:]}")
    return VerificationReport(service, url, [p.path for p in pacts], results, output, time.monotonic() - t0, errors)
