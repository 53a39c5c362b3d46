"""The plugin's options, and which stack file a pytest session uses."""

from __future__ import annotations

from pathlib import Path

import pytest

__all__ = ["addoption", "stack_file"]


def addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("stackrig", "integration-test stacks (stackrig)")
    group.addoption("--stackrig-file", dest="stackrig_file", default=None,
                    help="stack file to use (default: stackrig.toml or pyproject.toml in the rootdir)")
    group.addoption("--no-stackrig", dest="stackrig_disabled", action="store_true", default=False,
                    help="disable the stackrig plugin")
    group.addoption("--stackrig-cov-fail-under", dest="stackrig_cov_fail_under", type=float, default=None,
                    metavar="PERCENT", help="fail the run when a measured service's coverage is below PERCENT")
    parser.addini("stackrig_file", "stack file to use (relative to the rootdir)", default="")


def stack_file(config: pytest.Config) -> Path | None:
    """``--stackrig-file``, else ini ``stackrig_file``, else a stack file in the rootdir."""
    option = config.getoption("stackrig_file")
    if option:
        return Path(option).resolve()
    ini = config.getini("stackrig_file")
    root = Path(config.rootpath)
    if ini:
        return (root / str(ini)).resolve()
    if (root / "stackrig.toml").is_file():
        return root / "stackrig.toml"
    pyproject = root / "pyproject.toml"
    if pyproject.is_file() and "[tool.stackrig" in pyproject.read_text(errors="replace"):
        return pyproject
    for name in ("docker-compose.test.yml", "docker-compose.test.yaml", "compose.test.yaml", "compose.test.yml"):
        if (root / name).is_file():  # a compose file made for tests (others: --stackrig-file or the ini option)
            return root / name
    return None
