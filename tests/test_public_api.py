"""The public surface: what `__all__` promises is importable, and nothing private leaks into it."""

from __future__ import annotations

import importlib

import pytest

PACKAGES = ["stackrig", "stackrig.stub", "stackrig.faults", "stackrig.isolation", "stackrig.mail",
            "stackrig.config", "stackrig.errors", "stackrig.services", "stackrig.run", "stackrig.rig",
            "stackrig.supervisor", "stackrig.events", "stackrig.coverage", "stackrig.load", "stackrig.ci",
            "stackrig.scan", "stackrig.report", "stackrig.pact"]
LAZY = ["stackrig", "stackrig.config", "stackrig.services", "stackrig.run", "stackrig.ci", "stackrig.report",
        "stackrig.pact"]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_names_resolve(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__all__, f"{name} has an empty __all__"
    for attr in module.__all__:
        assert getattr(module, attr) is not None, f"{name}.{attr}"
        assert not attr.startswith("_") or attr == "__version__"


def test_every_error_derives_from_the_one_base() -> None:
    import stackrig.errors as errors
    from stackrig.faults import FaultError
    from stackrig.isolation import IsolationError
    from stackrig.pact import PactError, PactVerificationFailed
    from stackrig.stub import MappingError, StubAdminError, VerificationFailed

    classes = [c for c in (getattr(errors, n) for n in errors.__all__) if isinstance(c, type)]
    for cls in [*classes, FaultError, IsolationError, MappingError, StubAdminError, VerificationFailed,
                             PactError, PactVerificationFailed]:
        assert issubclass(cls, errors.StackrigError), cls
    assert issubclass(VerificationFailed, AssertionError)
    assert issubclass(PactVerificationFailed, AssertionError)
    assert issubclass(errors.ReadinessTimeout, TimeoutError)
    assert issubclass(errors.PortInUse, OSError)


def test_the_package_import_is_lazy() -> None:
    """Server processes import `stackrig.<x>`: the root package must not drag in pydantic and rich."""
    import subprocess
    import sys

    code = ("import sys, stackrig.stub, stackrig.faults, stackrig.mail;"
            "print(sorted(m for m in ('pydantic', 'rich', 'click') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("name", LAZY)
def test_all_is_derived_from_the_one_list_and_typed_the_same(name: str) -> None:
    """A lazy package lists each public name once (`_EXPORTS`); `__all__` is made from it, and the
    imports type checkers read (under TYPE_CHECKING) name exactly the same things."""
    import ast
    from pathlib import Path

    module = importlib.import_module(name)
    exports = module._EXPORTS  # type: ignore[attr-defined]
    assert sorted(set(module.__all__) - {"__version__"}) == sorted(exports)
    tree = ast.parse(Path(module.__file__ or "").read_text())
    typed: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            for imp in node.body:
                assert isinstance(imp, ast.ImportFrom)
                for alias in imp.names:
                    assert alias.asname == alias.name, f"{alias.name}: re-export as itself"
                    typed[alias.name] = "." * imp.level + (imp.module or "")
    assert typed == exports


def test_rig_clients_have_their_real_types() -> None:
    """`rig.sql()` is a psycopg connection to mypy, `rig.stub()` a StubClient, ... (not `Any`)."""
    from stackrig import Rig

    hints = {n: str(getattr(Rig, n).__annotations__.get("return")) for n in
             ("sql", "redis", "stub", "mail", "fault", "http", "engine")}
    assert "psycopg" in hints["sql"] and "redis" in hints["redis"].lower()
    assert "StubClient" in hints["stub"] and "Mailbox" in hints["mail"] and "Fault" in hints["fault"]
    assert "httpx" in hints["http"] and "Engine" in hints["engine"]
