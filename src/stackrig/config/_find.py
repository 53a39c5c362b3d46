"""Find the stack file for a folder (cheap: `stackrig status` runs this on every call)."""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

__all__ = ["COMPOSE_FILE_NAMES", "STACK_FILE_NAMES", "find_stack_file", "find_stack_path", "is_compose_file"]

STACK_FILE_NAMES = ("stackrig.toml",)
# a team's compose file, found when there is no stackrig file here or above (the test file first)
COMPOSE_FILE_NAMES = ("docker-compose.test.yml", "docker-compose.test.yaml", "compose.test.yaml", "compose.test.yml",
                      "compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")


def is_compose_file(path: str | os.PathLike[str]) -> bool:
    """A YAML stack file: the compose front door reads it (docs/compose.md)."""
    return os.fspath(path).endswith((".yml", ".yaml"))


def _declares_stackrig(pyproject: str) -> bool:
    try:
        with open(pyproject, encoding="utf-8", errors="replace") as f:
            return "[tool.stackrig" in f.read()
    except OSError:
        return False


def find_stack_path(start: str | os.PathLike[str] | None = None) -> str | None:
    """`stackrig.toml`, or a `pyproject.toml` with `[tool.stackrig]`, in `start` or a parent folder;
    else the nearest compose file (COMPOSE_FILE_NAMES)."""
    return _find_stackrig(start) or _find_compose(start)


def _stackrig_file_in(folder: str) -> str | None:
    for name in STACK_FILE_NAMES:
        candidate = os.path.join(folder, name)
        if os.path.isfile(candidate):
            return candidate
    pyproject = os.path.join(folder, "pyproject.toml")
    return pyproject if os.path.isfile(pyproject) and _declares_stackrig(pyproject) else None


def _compose_file_in(folder: str) -> str | None:
    for name in COMPOSE_FILE_NAMES:
        candidate = os.path.join(folder, name)
        if os.path.isfile(candidate):
            return candidate
    return None


def _walk_up(start: str | os.PathLike[str] | None, find: Callable[[str], str | None]) -> str | None:
    """`find` in `start` (default: the current folder), then in each parent, up to the root."""
    here = os.path.abspath(start or os.getcwd())
    while True:
        found = find(here)
        if found is not None:
            return found
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def _find_stackrig(start: str | os.PathLike[str] | None) -> str | None:
    return _walk_up(start, _stackrig_file_in)


def _find_compose(start: str | os.PathLike[str] | None) -> str | None:
    return _walk_up(start, _compose_file_in)


def find_stack_file(start: Path | str | None = None) -> Path | None:
    """The same, as a `Path`."""
    from pathlib import Path

    found = find_stack_path(start)
    return Path(found) if found is not None else None
