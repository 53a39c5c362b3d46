"""Fixtures of the NATS kind's tests: a stack brought up from a stack-file text."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from nats_helpers import text_of

from stackrig import Stack
from stackrig.rig import Rig


@pytest.fixture
def up(tmp_path: Path) -> Iterator[Callable[[str], Rig]]:
    """`up(stack_text)` starts the stack (in this process) and returns its rig; all stopped at the end."""
    stacks: list[Stack] = []

    def start(stack: str) -> Rig:
        path = tmp_path / "stackrig.toml"
        path.write_text(text_of(stack))
        s = Stack.load(path)
        stacks.append(s)
        return s.up()

    yield start
    for s in reversed(stacks):
        s.down()
