"""The public surface: __all__ is what the package exports, and each name is documented."""

from __future__ import annotations

import stackrig.isolation as isolation


def test_all_lists_exactly_the_public_names() -> None:
    public = {name for name in vars(isolation) if not name.startswith("_")}
    modules = {name for name, value in vars(isolation).items() if type(value).__name__ == "module"}
    assert set(isolation.__all__) == public - modules - {"annotations"}
    for name in isolation.__all__:
        assert getattr(isolation, name).__doc__ or name == "ResetMode", name


def test_the_design_notes_are_in_the_package_docstring() -> None:
    doc = isolation.__doc__ or ""
    for topic in ("Change detection", "Reset", "Schema changes", "Cost"):
        assert topic in doc
