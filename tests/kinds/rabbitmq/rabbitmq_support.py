"""Fixtures of the RabbitMQ kind's tests: stacks brought up from a stack-file text, programs."""

from __future__ import annotations

import shutil
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from stackrig import Stack
from stackrig.rig import Rig

RMQ_PROGRAMS = Path(__file__).parent / "programs"
NODE = shutil.which("node") or "/usr/bin/node"


def _no_rabbitmq() -> bool:
    from helpers import system_binary

    from stackrig.kinds.rabbitmq import RABBITMQ

    return system_binary(RABBITMQ) is None


# RabbitMQ comes only from the system (no wheel carries it): where stackrig finds none, these skip
needs_rabbitmq = pytest.mark.skipif(_no_rabbitmq(),
                                    reason="RabbitMQ is not installed (apt-get install rabbitmq-server)")


def text_of(stack: str) -> str:
    return (textwrap.dedent(stack).replace("@RMQ_PROGRAMS@", str(RMQ_PROGRAMS)).replace("@PY@", sys.executable)
            .replace("@NODE@", NODE))


def start(folder: Path, stack: str, stacks: list[Stack]) -> tuple[Stack, Rig]:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "stackrig.toml"
    path.write_text(text_of(stack))
    s = Stack.load(path)
    stacks.append(s)
    return s, s.up()


@pytest.fixture
def up(tmp_path: Path) -> Iterator[Callable[[str], Rig]]:
    """`up(stack_text)` starts the stack in this process and returns its rig; stopped at the end."""
    stacks: list[Stack] = []
    yield lambda text: start(tmp_path / f"s{len(stacks)}", text, stacks)[1]
    for s in reversed(stacks):
        s.down()


@pytest.fixture(scope="module")
def module_up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], tuple[Stack, Rig]]]:
    """Like `up`, once per module (a broker shared by the module's tests)."""
    stacks: list[Stack] = []
    base = tmp_path_factory.mktemp("rmq")
    yield lambda text: start(base / f"s{len(stacks)}", text, stacks)
    for s in reversed(stacks):
        s.down()
