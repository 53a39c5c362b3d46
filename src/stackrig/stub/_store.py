"""The live set of stubs (ordered the way WireMock picks them) and the state of every scenario."""

from __future__ import annotations

from typing import Any

from ._mapping import StubMapping
from ._request import Request

__all__ = ["STARTED", "DuplicateStubId", "StubStore"]

STARTED = "Started"


class DuplicateStubId(ValueError):
    """A stub with this id already exists."""


class StubStore:
    """Stubs in match order: lowest priority number first, then newest first."""

    def __init__(self) -> None:
        self._stubs: list[StubMapping] = []
        self._by_id: dict[str, StubMapping] = {}
        self._counter = 0
        self._states: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self._stubs)

    def __iter__(self) -> Any:
        return iter(self._stubs)

    def _sort(self) -> None:
        self._stubs.sort(key=lambda s: (s.sort_priority, -s.insertion))

    def add(self, stub: StubMapping) -> None:
        if stub.id in self._by_id:
            raise DuplicateStubId(stub.id)
        self._counter += 1
        stub.insertion = self._counter
        self._by_id[stub.id] = stub
        self._stubs.append(stub)
        self._sort()

    def get(self, stub_id: str) -> StubMapping | None:
        return self._by_id.get(stub_id.lower())

    def replace(self, stub: StubMapping) -> bool:
        old = self._by_id.get(stub.id)
        if old is None:
            return False
        stub.insertion = old.insertion
        self._by_id[stub.id] = stub
        self._stubs[self._stubs.index(old)] = stub
        self._sort()
        return True

    def remove(self, stub_id: str) -> StubMapping | None:
        stub = self._by_id.pop(stub_id.lower(), None)
        if stub is not None:
            self._stubs.remove(stub)
        return stub

    def clear(self) -> None:
        self._stubs.clear()
        self._by_id.clear()

    # -- matching -----------------------------------------------------------------------------

    def match(self, req: Request) -> StubMapping | None:
        states = self._states
        for stub in self._stubs:
            if stub.request.matches(req):
                if (
                    stub.scenario is not None
                    and stub.required_state is not None
                    and states.get(stub.scenario, STARTED) != stub.required_state
                ):
                    continue
                return stub
        return None

    def served(self, stub: StubMapping) -> None:
        """Apply the scenario transition of a stub that answered a request."""
        if stub.scenario is not None and stub.new_state is not None:
            self._states[stub.scenario] = stub.new_state

    # -- scenarios ---------------------------------------------------------------------------

    def scenarios(self) -> list[dict[str, Any]]:
        found: dict[str, set[str]] = {}
        mappings: dict[str, list[str]] = {}
        for stub in sorted(self._stubs, key=lambda s: s.insertion):
            if stub.scenario is None:
                continue
            states = found.setdefault(stub.scenario, set())
            mappings.setdefault(stub.scenario, []).append(stub.id)
            for state in (stub.required_state, stub.new_state):
                if state is not None:
                    states.add(state)
        return [
            {
                "id": name,
                "name": name,
                "state": self._states.get(name, STARTED),
                "possibleStates": sorted(states),
                "mappings": mappings[name],
            }
            for name, states in sorted(found.items())
        ]

    def scenario_names(self) -> set[str]:
        return {s.scenario for s in self._stubs if s.scenario is not None}

    def states(self) -> dict[str, str]:
        """The current state of every scenario that has left Started."""
        return dict(self._states)

    def set_state(self, name: str, state: str) -> None:
        self._states[name] = state

    def reset_scenario(self, name: str) -> None:
        self._states.pop(name, None)

    def reset_scenarios(self) -> None:
        self._states.clear()
