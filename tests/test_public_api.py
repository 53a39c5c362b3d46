"""The public surface: what `__all__` promises is importable, and nothing private leaks into it."""

from __future__ import annotations

import importlib

import pytest

PACKAGES = ["stackrig", "stackrig.stub", "stackrig.faults", "stackrig.isolation", "stackrig.mail",
            "stackrig.config", "stackrig.errors"]


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
    from stackrig.stub import MappingError, StubAdminError, VerificationFailed

    classes = [c for c in (getattr(errors, n) for n in errors.__all__) if isinstance(c, type)]
    for cls in [*classes, FaultError, IsolationError, MappingError, StubAdminError, VerificationFailed]:
        assert issubclass(cls, errors.StackrigError), cls
    assert issubclass(VerificationFailed, AssertionError)
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
