"""`Stack`: the library entry point — load a stack file, bring it up, get a `Rig`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ._record import RunRecord
from ._rig import Rig
from ._runner import ServiceEvent, StackRunner
from .config import StackFile, find_stack_file, load_stack
from .errors import ConfigError

__all__ = ["Stack"]


class Stack:
    """A declared stack.  ``with Stack.load() as rig: ...`` runs it for the block."""

    def __init__(self, stack: StackFile) -> None:
        self.file = stack
        self._runner: StackRunner | None = None
        self._rig: Rig | None = None

    @classmethod
    def load(cls, path: Path | str | None = None) -> Stack:
        """From `path`, or the stack file found in the current folder or its parents."""
        if path is None:
            found = find_stack_file()
            if found is None:
                raise ConfigError("no stackrig.toml (or pyproject.toml with [tool.stackrig]) in this folder "
                                  "or its parents", hint="run `stackrig init`, or pass the path")
            path = found
        return cls(load_stack(path))

    def up(self, on_event: Callable[[ServiceEvent], None] | None = None) -> Rig:
        self._runner = StackRunner(self.file, on_event=on_event)
        record = self._runner.up()
        self._rig = Rig(record)
        return self._rig

    @property
    def record(self) -> RunRecord | None:
        return self._runner.record if self._runner else None

    def down(self) -> None:
        if self._rig is not None:
            self._rig.close()
        if self._runner is not None:
            self._runner.down()

    def __enter__(self) -> Rig:
        return self.up()

    def __exit__(self, *exc: object) -> None:
        self.down()
