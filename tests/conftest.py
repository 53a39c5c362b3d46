"""Fixtures for stackrig's own tests."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

# psycopg and redis are imported once, here: pytester's in-process runs restore sys.modules
# afterwards, and a package re-imported by a later run gets new exception classes that its C
# extension never raises.
import psycopg  # noqa: F401
import pytest
import redis  # noqa: F401
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
