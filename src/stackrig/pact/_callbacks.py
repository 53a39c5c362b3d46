"""What happens when the verifier calls back: data reset, provider states, triggers, messages.

The verifier announces each interaction with one ``setup`` call per provider state (a call with
the empty state when it has none) and ends it with ``teardown`` calls.  Before the first setup of
an interaction the stack's data is reset (the same reset as between two tests), so every
interaction starts from the baseline; then each state's function runs.

A message interaction is produced by its trigger function; the message is then awaited on a tap
of the broker opened before the verification began, and the first one (published after the
interaction's reset) whose contents match the pact's — under its matching rules — goes to the
verifier, which gives the verdict.  When none matches in time, the closest is handed over so the
verifier names the differences (or, when nothing came at all, the interaction fails saying so).
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ._model import Interaction
from ._rules import mismatches
from ._server import Produced
from ._states import StateRegistry

__all__ = ["Callbacks", "Note", "TapLike", "subject_of"]

_SUBJECT_KEYS = ("subject", "channel", "topic", "destination", "routingKey", "routing_key", "queue")


class TapLike(Protocol):
    """A tap of :mod:`stackrig.events` (what the verification needs of it)."""

    @property
    def events(self) -> Sequence[Any]: ...

    def close(self) -> None: ...


def subject_of(interaction: Interaction) -> str | None:
    """The subject (channel, topic, routing key) a message pact names in its metadata."""
    meta = interaction.metadata
    for key in _SUBJECT_KEYS:
        if isinstance(meta.get(key), str) and meta[key]:
            return str(meta[key])
    return None


@dataclass
class Note:
    """Something stackrig saw go wrong during interaction number `index` (in the verifier's order)."""

    index: int
    kind: str  # "state" or "message"
    message: str
    state: str = ""


@dataclass
class Callbacks:
    interactions: list[Interaction]
    provider: str | None
    states: StateRegistry
    context: Mapping[str, Any]
    reset: Callable[[], object] | None = None
    taps: dict[str, TapLike] = field(default_factory=dict)  # subject pattern -> open tap
    default_pattern: str | None = None
    message_timeout: float = 5.0
    notes: list[Note] = field(default_factory=list)
    resets: int = 0
    _index: int = -1
    _dirty: bool = True
    _mark: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- provider states ---------------------------------------------------------------
    def on_state(self, state: str, params: dict[str, Any], action: str) -> dict[str, Any]:
        with self._lock:
            if action == "teardown":
                self._dirty = True
                return {}
            if self._dirty:
                self._dirty = False
                self._index += 1
                if self.reset is not None:
                    try:
                        self.reset()
                        self.resets += 1
                    except Exception as exc:  # noqa: BLE001 - the interaction fails with the reason
                        self.notes.append(Note(self._index, "state", f"resetting the stack's data before the "
                                                                     f"interaction failed: {exc}", state))
                        raise
                self._mark = time.time()
            if not state:
                return {}
            handler = self.states.find_state(state, self.provider)
            if handler is None:  # checked before the run; a pact changed under us
                raise LookupError(f"no provider state function for {state!r}")
            try:
                result = handler.call(state, params, self.context)
            except Exception as exc:
                where = "".join(traceback.format_exception_only(type(exc), exc)).strip()
                frames = traceback.extract_tb(exc.__traceback__)
                line = f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
                self.notes.append(Note(self._index, "state", f"provider state '{state}' ({handler.where}) "
                                                             f"raised {where}{line}", state))
                raise
            return dict(result) if isinstance(result, Mapping) else {}

    # -- messages -----------------------------------------------------------------------
    def _find(self, description: str, states: list[dict[str, Any]]) -> Interaction | None:
        names = [str(s.get("name")) for s in states if isinstance(s, Mapping)]
        for interaction in self.interactions:
            if interaction.is_message and interaction.description == description and \
                    [s.name for s in interaction.states] == names:
                return interaction
        return next((i for i in self.interactions if i.is_message and i.description == description), None)

    def pattern_for(self, interaction: Interaction) -> str | None:
        return subject_of(interaction) or self.default_pattern

    def on_message(self, description: str, states: list[dict[str, Any]]) -> Produced:
        interaction = self._find(description, states)
        index = self._index
        if interaction is None:
            raise LookupError(f"no message interaction {description!r} in the pacts given")
        pattern = self.pattern_for(interaction)
        tap = self.taps.get(pattern or "")
        if tap is None:
            self._note(index, f"no tap for the message '{description}': it names no subject in its metadata "
                              "and no default pattern was given")
            raise LookupError("no tap")
        handler = self.states.find_trigger(description, self.provider)
        params: dict[str, Any] = {}
        for state in states:
            if isinstance(state, Mapping) and isinstance(state.get("params"), Mapping):
                params.update(state["params"])
        if handler is not None:
            try:
                handler.call(description, params, self.context)
            except Exception as exc:
                self._note(index, f"the trigger of '{description}' ({handler.where}) raised "
                                  f"{type(exc).__name__}: {exc}")
                raise
        return self._await(interaction, tap, pattern or "", index)

    def _await(self, interaction: Interaction, tap: TapLike, pattern: str, index: int) -> Produced:
        expected, rules = interaction.contents, interaction.body_rules
        deadline = time.monotonic() + self.message_timeout
        mark = self._mark
        while True:
            fresh = [e for e in list(tap.events) if getattr(e, "timestamp", mark) >= mark]
            for event in fresh:
                if not mismatches(expected, _actual(event, expected), rules):
                    return _produced(event)
            if time.monotonic() >= deadline:
                break
            time.sleep(0.005)
        if not fresh:
            self._note(index, f"no message on '{pattern}' within {self.message_timeout:g} s after the trigger "
                              f"of '{interaction.description}'")
            raise TimeoutError("no message")
        closest = min(fresh, key=lambda e: len(mismatches(expected, _actual(e, expected), rules)))
        problems = mismatches(expected, _actual(closest, expected), rules)
        self._note(index, f"{len(fresh)} message(s) on '{pattern}' after the trigger, none matching the pact; the "
                          f"closest ({closest.subject}): " + "; ".join(problems[:5]))
        return _produced(closest)

    def _note(self, index: int, message: str) -> None:
        with self._lock:
            self.notes.append(Note(index, "message", message))


def _actual(event: Any, expected: Any) -> Any:
    """The event's contents as the pact's are: JSON, text (when the pact expects text) or bytes."""
    body = event.body
    if isinstance(body, bytes) and isinstance(expected, str):
        return body.decode("utf-8", "replace")
    return body


def _produced(event: Any) -> Produced:
    headers = dict(getattr(event, "headers", {}) or {})
    ctype = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    body = event.body
    if not ctype and isinstance(body, bytes):
        try:
            body.decode("utf-8")
            ctype = "text/plain"
        except UnicodeDecodeError:
            ctype = "application/octet-stream"
    elif not ctype:
        ctype = "application/json"
    metadata: dict[str, Any] = {"subject": event.subject, "contentType": ctype}
    for key, value in headers.items():
        if key.lower() != "content-type":
            metadata.setdefault(key, value)
    return Produced(bytes(event.raw), ctype, metadata)
