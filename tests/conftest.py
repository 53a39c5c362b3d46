"""Fixtures for stackrig's own tests."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import PROGRAMS

pytest_plugins = ["pytester"]


@pytest.fixture
def stackfile(tmp_path: Path) -> Callable[[str], Path]:
    """Write a stackrig.toml (dedented) into a fresh folder and return its path."""

    def write(text: str, name: str = "stackrig.toml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).replace("@PROGRAMS@", str(PROGRAMS)).replace("@PY@", sys.executable))
        return path

    return write
