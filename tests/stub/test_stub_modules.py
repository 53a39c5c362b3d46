"""The shape of the stub package: small modules with one job each, and a stable public surface."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import stackrig.stub

PACKAGE = Path(stackrig.stub.__file__).parent
MAX_LINES = 420  # modules over ~400 lines get split along their seams
MODULES = sorted(p for p in PACKAGE.glob("*.py") if p.name != "__main__.py")

# The public surface before the split; names may be added, none taken away.
PUBLIC = {
    "MappingError", "Matcher", "RecordedRequest", "RequestSpec", "Stub", "StubAdminError", "StubBuilder",
    "StubClient", "VerificationFailed", "absent", "any_request", "containing", "delete", "equal_to",
    "equal_to_json", "get", "head", "matching", "not_matching", "options", "patch", "post", "put", "request",
}  # fmt: skip


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_module_is_small_and_says_its_job(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert len(source.splitlines()) <= MAX_LINES, f"{path.name} has grown past {MAX_LINES} lines: split it"
    docstring = ast.get_docstring(ast.parse(source))
    assert docstring and len(docstring.split()) >= 5, f"{path.name} needs a docstring saying its one job"


def test_public_surface_only_grows() -> None:
    assert PUBLIC <= set(stackrig.stub.__all__)
    for name in stackrig.stub.__all__:
        assert getattr(stackrig.stub, name) is not None


def test_internal_import_paths_still_work() -> None:
    """Names other modules, tests and tools import from the modules that were split."""
    expected = {
        "_matchers": ["ValuePattern", "MultiPattern", "BinaryEqualTo", "json_equal", "parse_value_pattern",
                      "parse_multi_pattern", "compile_regex", "_did_you_mean", "_similarity_distance"],
        "_template": ["TemplateError", "compile_template", "request_model", "render_value", "jackson_pretty"],
        "_admin": ["AdminResult", "EmptyWithReason", "handle_admin"],
        "_record": ["Recorder"],
        "_client": ["RecordedRequest", "Stub", "StubBuilder", "StubClient"],
    }  # fmt: skip
    for module, names in expected.items():
        loaded = importlib.import_module(f"stackrig.stub.{module}")
        for name in names:
            assert hasattr(loaded, name), f"stackrig.stub.{module}.{name}"
