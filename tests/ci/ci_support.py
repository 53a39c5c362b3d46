"""Helpers of the CI tests: a project whose stack uses postgres + redis + a Node.js app; tools of the venv."""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

STACK = """\
[services.db]
kind = "postgres"
init = ["db/schema.sql", "alembic upgrade head"]
init_inputs = ["alembic/**/*.py"]
seed = "db/seed.sql"
export = { DATABASE_URL = "${url}" }

[services.cache]
kind = "redis"
export = { REDIS_URL = "${url}" }

[services.web]
kind = "process"
cwd = "web"
build = "${npm} ci"
build_inputs = ["package-lock.json"]
command = "${node} server.js --port ${self.port}"
depends_on = ["db", "cache"]
ready = { http = "/health" }
"""

PYPROJECT = """\
[project]
name = "shop"
version = "1.0"
dependencies = ["fastapi>=0.110"]

[project.optional-dependencies]
test = ["pytest>=8", "stackrig>=0.2"]
docs = ["mkdocs"]
"""


def make_project(root: Path, stack: str = STACK, pyproject: str | None = PYPROJECT, sub: str = "") -> Path:
    """A repository (``.git``) with a stack file (in `sub`), its SQL files and a Python project; returns the
    stack file's folder."""
    (root / ".git").mkdir(parents=True, exist_ok=True)
    where = root / sub if sub else root
    (where / "db").mkdir(parents=True, exist_ok=True)
    (where / "web").mkdir(exist_ok=True)
    (where / "db" / "schema.sql").write_text("create table users (id serial primary key);\n")
    (where / "db" / "seed.sql").write_text("insert into users default values;\n")
    (where / "stackrig.toml").write_text(textwrap.dedent(stack))
    if pyproject is not None:
        (where / "pyproject.toml").write_text(pyproject)
    return where


@dataclass
class Result:
    exit_code: int
    output: str  # stdout and stderr


def tool(name: str) -> str:
    """An executable of the venv (check-jsonschema, zizmor), or skip."""
    found = shutil.which(name) or str(Path(sys.executable).with_name(name))
    if not os.access(found, os.X_OK):
        pytest.skip(f"{name} is not installed")
    return found
