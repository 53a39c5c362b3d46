"""The complete example of docs/kinds/nats.md runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import REPO

DOC = REPO / "docs" / "kinds" / "nats.md"


def example_files() -> dict[str, str]:
    section = DOC.read_text().split("## A complete example", 1)[1].split("\n## ", 1)[0]
    found = re.findall(r"`([\w.]+)`:\n\n```\w+\n(.*?)```", section, re.S)
    return dict(found)


def test_the_example_has_its_three_files() -> None:
    assert sorted(example_files()) == ["stackrig.toml", "test_orders.py", "worker.py"]


@pytest.mark.slow
def test_the_complete_example_passes(pytester: pytest.Pytester) -> None:
    for name, text in example_files().items():
        (Path(pytester.path) / name).write_text(text)
    result = pytester.runpytest_subprocess("-p", "no:randomly")
    result.assert_outcomes(passed=2)
