"""The layering is a checked contract, and the core names no kind."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from helpers import REPO

SRC = REPO / "src" / "stackrig"


def test_import_contracts_hold() -> None:
    """`lint-imports` checks the contracts in pyproject.toml: the layers, kinds independent of each
    other, and the core never importing a kind."""
    exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    if not Path(exe).exists():
        pytest.skip("import-linter is not installed (pip install 'stackrig[dev]')")
    done = subprocess.run([exe, "--config", str(REPO / "pyproject.toml")], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "Contracts: 3 kept, 0 broken." in done.stdout


def _kind_names() -> set[str]:
    data = tomllib.loads((REPO / "pyproject.toml").read_text())
    return set(data["project"]["entry-points"]["stackrig.kinds"])


def test_the_core_never_switches_on_a_kind_name() -> None:
    """No comparison with, or dictionary keyed by, a built-in kind's name outside its own folder."""
    names = _kind_names()
    offenders = []
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC)
        if rel.parts[0] == "kinds" or rel == Path("services/_registry.py"):
            continue  # a kind's own folder; the registry's fallback list of the built-ins
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare):
                for side in [node.left, *node.comparators]:
                    if isinstance(side, ast.Constant) and side.value in names:
                        offenders.append(f"{rel}:{node.lineno}: compares with {side.value!r}")
            if isinstance(node, ast.Dict):
                for key in node.keys:
                    if isinstance(key, ast.Constant) and key.value in names:
                        offenders.append(f"{rel}:{node.lineno}: a dict keyed by {key.value!r}")
    assert offenders == []


def test_builtin_fallback_list_matches_the_packaging_metadata() -> None:
    from stackrig.services import BUILTIN_KINDS

    data = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert BUILTIN_KINDS == data["project"]["entry-points"]["stackrig.kinds"]


def test_every_builtin_kind_loads_and_names_itself() -> None:
    from stackrig.services import ServiceKind, registry

    reg = registry()
    for name in _kind_names():
        kind = reg.get(name)
        assert isinstance(kind, ServiceKind) and kind.name == name
        assert kind.summary and kind.docs
        assert kind.service.__module__.startswith(f"stackrig.kinds.{name.replace('-', '_')}")


def test_modules_stay_small() -> None:
    """Small modules with one job each: none over 500 lines."""
    big = [f"{p.relative_to(SRC)}: {n}" for p in SRC.rglob("*.py") if (n := len(p.read_text().splitlines())) > 500]
    assert big == []


def test_every_module_says_its_job() -> None:
    missing = [str(p.relative_to(SRC)) for p in SRC.rglob("*.py")
               if p.name != "__main__.py" and not ast.get_docstring(ast.parse(p.read_text()))
               and p.read_text().strip()]
    assert missing == []


def test_architecture_doc_names_every_package() -> None:
    doc = (REPO / "docs" / "architecture.md").read_text()
    packages = sorted(p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists())
    absent = [p for p in packages if not re.search(rf"`{p}/`", doc)]
    assert absent == []
