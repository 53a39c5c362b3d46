"""Message pacts from what taps captured: each event an ``Asynchronous/Messages`` interaction (V4).

::

    from stackrig.pact import record_messages

    tap = rig.events("cache", "orders:*")
    ...                                   # the provider publishes
    record_messages("pacts/billing-orders.json", tap.events, consumer="billing", provider="orders",
                    states=["an order exists"])

An interaction's contents are the event's body (JSON when it is JSON, else text or base64 bytes);
its metadata the ``subject`` (the channel, topic or routing key — what ``stackrig pact verify``
taps when it checks the pact), the content type and the event's headers.  Captured values (ids,
times) differ from run to run, so by default the contents get ``type`` rules — the contract is the
message's shape — and ``exact=True`` keeps the captured values as the only ones allowed.  Events
with equal subject and contents are one interaction; record into one file from several tests or
xdist workers and the file holds the union (see :mod:`._write`).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from ._write import canonical, record_interactions

__all__ = ["EventLike", "message_interaction", "message_interactions", "record_messages"]


class EventLike(Protocol):
    """What a tap captures (:class:`stackrig.events.Event`)."""

    @property
    def subject(self) -> str: ...

    @property
    def raw(self) -> bytes: ...

    @property
    def headers(self) -> Mapping[str, str]: ...


StatesArg = Sequence[str | Mapping[str, Any]] | Callable[[Any], Sequence[str | Mapping[str, Any]]] | None


def _contents(raw: bytes, headers: Mapping[str, str]) -> tuple[dict[str, Any], str]:
    ctype = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    try:
        return {"content": json.loads(raw), "contentType": ctype or "application/json", "encoded": False}, \
            ctype or "application/json"
    except (ValueError, UnicodeDecodeError):
        pass
    try:
        text = raw.decode("utf-8")
        return {"content": text, "contentType": ctype or "text/plain", "encoded": False}, ctype or "text/plain"
    except UnicodeDecodeError:
        ctype = ctype or "application/octet-stream"
        return {"content": base64.b64encode(raw).decode("ascii"), "contentType": ctype, "encoded": "base64"}, ctype


def _states(states: StatesArg, event: Any) -> list[dict[str, Any]]:
    found = states(event) if callable(states) else states or []
    out = []
    for state in found:
        if isinstance(state, str):
            out.append({"name": state})
        else:
            item: dict[str, Any] = {"name": str(state["name"])}
            if state.get("params"):
                item["params"] = dict(state["params"])
            out.append(item)
    return out


def message_interaction(event: EventLike, *, description: str | None = None, states: StatesArg = None,
                        exact: bool = False) -> dict[str, Any]:
    """One captured event as a V4 ``Asynchronous/Messages`` interaction."""
    headers = dict(event.headers)
    contents, ctype = _contents(event.raw, headers)
    metadata: dict[str, Any] = {"subject": event.subject, "contentType": ctype}
    for key, value in headers.items():
        if key.lower() != "content-type":
            metadata.setdefault(key, value)
    interaction: dict[str, Any] = {
        "type": "Asynchronous/Messages",
        "description": description or f"a message on {event.subject}",
        "pending": False,
        "contents": contents,
        "metadata": metadata,
    }
    if not exact and contents.get("encoded") is False:
        interaction["matchingRules"] = {"body": {"$": {"combine": "AND", "matchers": [{"match": "type"}]}}}
    found = _states(states, event)
    if found:
        interaction["providerStates"] = found
    return interaction


def message_interactions(events: Iterable[EventLike], *, describe: Callable[[Any], str] | None = None,
                         states: StatesArg = None, exact: bool = False) -> dict[str, dict[str, Any]]:
    """Key -> interaction for `events`; an event whose subject and contents were seen already is skipped."""
    out: dict[str, dict[str, Any]] = {}
    for event in events:
        interaction = message_interaction(event, description=describe(event) if describe else None,
                                          states=states, exact=exact)
        identity = canonical([interaction["description"], interaction.get("providerStates", []),
                              event.subject, interaction["contents"]])
        key = hashlib.sha256(identity.encode()).hexdigest()
        out.setdefault(key, interaction)
    return out


def record_messages(pact_file: str | Path, events: Iterable[EventLike], *, consumer: str, provider: str,
                    describe: Callable[[Any], str] | None = None, states: StatesArg = None, exact: bool = False,
                    parts_dir: str | Path | None = None) -> Path:
    """Add `events` to the message pact `pact_file` (merged with what this session recorded before,
    in this and other processes); returns its path."""
    batch = message_interactions(events, describe=describe, states=states, exact=exact)
    return record_interactions(pact_file, consumer, provider, batch, parts_dir=parts_dir)
