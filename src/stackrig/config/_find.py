"""Find the stack file for a folder (cheap: `stackrig status` runs this on every call)."""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["STACK_FILE_NAMES", "find_stack_file", "find_stack_path"]

STACK_FILE_NAMES = ("stackrig.toml",)


def _declares_stackrig(pyproject: str) -> bool:
    try:
        with open(pyproject, encoding="utf-8", errors="replace") as f:
            return "[tool.stackrig" in f.read()
    except OSError:
        return False


def find_stack_path(start: str | os.PathLike[str] | None = None) -> str | None:
    """`stackrig.toml`, or a `pyproject.toml` with `[tool.stackrig]`, in `start` or a parent folder."""
    here = os.path.abspath(start or os.getcwd())
    while True:
        for name in STACK_FILE_NAMES:
            candidate = os.path.join(here, name)
            if os.path.isfile(candidate):
                return candidate
        pyproject = os.path.join(here, "pyproject.toml")
        if os.path.isfile(pyproject) and _declares_stackrig(pyproject):
            return pyproject
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def find_stack_file(start: Path | str | None = None) -> Path | None:
    """The same, as a `Path`."""
    from pathlib import Path

    found = find_stack_path(start)
    return Path(found) if found is not None else None
