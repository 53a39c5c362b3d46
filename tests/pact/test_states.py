"""Provider states and triggers: registered by text with {placeholders}, called with what they ask for."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackrig.pact import StateRegistry, StatesModuleError, load_states


def test_placeholders_params_and_context_are_passed_by_name() -> None:
    reg = StateRegistry()
    seen: list[dict[str, object]] = []

    @reg.provider_state("a product with id {id} exists")
    def product(id: int, env: dict[str, str], price_cents: int = 100) -> dict[str, int]:
        seen.append({"id": id, "env": env, "price": price_cents})
        return {"productId": id}

    handler = reg.find_state("a product with id 7 exists")
    assert handler is not None and handler.names == ("id",)
    answer = handler.call("a product with id 7 exists", {"price_cents": 900}, {"env": {"A": "1"}, "rig": object()})
    assert answer == {"productId": 7}
    assert seen == [{"id": 7, "env": {"A": "1"}, "price": 900}]
    assert reg.find_state("a product with id exists") is None
    assert reg.find_state("a product with id 7 exists!") is None


def test_an_exact_pattern_wins_over_placeholders_and_the_longest_literal_next() -> None:
    reg = StateRegistry()
    reg.provider_state("a user with email {email} exists")(lambda: "generic")
    reg.provider_state("a user with email ann@example.com exists")(lambda: "exact")
    reg.provider_state("{anything}")(lambda: "catch-all")
    assert reg.find_state("a user with email ann@example.com exists").call(  # type: ignore[union-attr]
        "a user with email ann@example.com exists", {}, {}) == "exact"
    assert reg.find_state("a user with email bob@example.com exists").call(  # type: ignore[union-attr]
        "a user with email bob@example.com exists", {}, {}) == "generic"
    assert reg.find_state("something else").call("something else", {}, {}) == "catch-all"  # type: ignore[union-attr]


def test_provider_scoped_states_and_a_missing_argument() -> None:
    reg = StateRegistry()

    @reg.provider_state("s", provider="orders")
    def only_orders(needed: str) -> None: ...

    assert reg.find_state("s", "users") is None
    handler = reg.find_state("s", "orders")
    assert handler is not None
    with pytest.raises(TypeError, match="needs the argument 'needed', which is neither a {placeholder} of 's'"):
        handler.call("s", {}, {"url": "http://x"})


def test_states_modules_by_path_and_by_name(tmp_path: Path) -> None:
    (tmp_path / "my_states.py").write_text(
        "from stackrig.pact import provider_state, trigger\n"
        "@provider_state('from a file {n}')\ndef f(n: int): return {'n': n}\n"
        "@trigger('an event')\ndef t(): pass\n")
    by_path = load_states(["my_states.py"], root=tmp_path)
    assert [h.pattern for h in by_path.states] == ["from a file {n}"]
    assert [h.pattern for h in by_path.triggers] == ["an event"]
    assert by_path.states[0].call("from a file 3", {}, {}) == {"n": 3}
    by_name = load_states(["my_states"], root=tmp_path)
    assert [h.pattern for h in by_name.states] == ["from a file {n}"]
    assert "from a file {n}  ->  f (my_states.py:2)" in by_name.describe_states()


def test_a_states_module_that_cannot_be_loaded(tmp_path: Path) -> None:
    with pytest.raises(StatesModuleError, match="no such file"):
        load_states(["missing.py"], root=tmp_path)
    (tmp_path / "boom.py").write_text("raise ValueError('bad module')\n")
    with pytest.raises(StatesModuleError, match="could not be imported: ValueError: bad module"):
        load_states(["boom.py"], root=tmp_path)
    with pytest.raises(StatesModuleError, match="ModuleNotFoundError"):
        load_states(["no_such_module_here"], root=tmp_path)
