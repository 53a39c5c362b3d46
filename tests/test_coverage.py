"""Coverage of the processes under test: Python under coverage.py, Node through V8, combined per
service however many processes wrote data (replicas, restarts, xdist workers)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import PROGRAMS

APP = PROGRAMS / "covapp"

STACK = f"""
[services.app]
kind = "process"
cwd = "{APP}"
command = "${{python}} app.py"
replicas = 2
coverage = true

[services.web]
kind = "process"
cwd = "{APP}"
command = "${{node}} server.js"
coverage = true
"""

TESTS = """
import httpx

def test_alpha_on_both_replicas(rig):
    for port in rig["app"].ports:
        assert httpx.get(f"http://127.0.0.1:{port}/a").text == "alpha"

def test_after_a_restart(rig):
    rig["app"].restart()
    assert httpx.get(f"http://127.0.0.1:{rig['app'].ports[0]}/").text == "ok"

def test_node(rig):
    assert rig.http("web").get("/a").text == "alpha"
"""


def lines_of(source: Path, name: str) -> set[int]:
    """The line numbers of the body of function `name` in `source`."""
    import ast

    fn = next(n for n in ast.walk(ast.parse(source.read_text())) if getattr(n, "name", None) == name)
    return {node.lineno for node in fn.body}


@pytest.mark.slow
def test_services_are_measured_and_combined(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", stackrig=STACK)
    pytester.makepyfile(test_cov=TESTS)
    result = pytester.runpytest_subprocess("-p", "no:randomly")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*stackrig coverage of the services under test*", "app *python * 4 processes*",
                                 "web *node *"])
    data = pytester.path / ".stackrig" / "coverage" / "app.coverage"
    import coverage

    cov = coverage.Coverage(data_file=str(data))
    cov.load()
    _, statements, _, missing, _ = cov.analysis2(str(APP / "app.py"))
    assert lines_of(APP / "app.py", "alpha") <= set(statements) - set(missing)  # called on both replicas
    assert lines_of(APP / "app.py", "beta") <= set(missing)  # never called
    report = subprocess.run([sys.executable, "-m", "coverage", "report", "--data-file", str(data)],
                            capture_output=True, text=True)
    assert report.returncode == 0 and "app.py" in report.stdout
    lcov = (pytester.path / ".stackrig" / "coverage" / "web.lcov").read_text()
    hits = {int(line.split(",")[0][3:]): int(line.split(",")[1])
            for line in lcov.splitlines() if line.startswith("DA:")}
    alpha = lines_of_js(APP / "server.js", "alpha")
    beta = lines_of_js(APP / "server.js", "beta")
    assert all(hits.get(n, 0) > 0 for n in alpha) and all(hits.get(n, 1) == 0 for n in beta)
    summary = json.loads((pytester.path / ".stackrig" / "coverage" / "summary.json").read_text())
    assert {s["service"]: s["processes"] for s in summary} == {"app": 4, "web": 1}  # 2 replicas, restarted


def lines_of_js(source: Path, name: str) -> list[int]:
    lines = source.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"function {name}("))
    end = next(i for i in range(start, len(lines)) if lines[i] == "}")
    return [i + 1 for i in range(start + 1, end)]


@pytest.mark.slow
def test_fail_under_and_xdist(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", stackrig=STACK.replace("replicas = 2\n", ""))
    pytester.makepyfile(test_cov=TESTS.replace("rig[\"app\"].restart()", "pass"))
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-n", "2", "--stackrig-cov-fail-under", "99")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*FAIL: coverage of app, web is below 99% (--stackrig-cov-fail-under)*"])
    summary = json.loads((pytester.path / ".stackrig" / "coverage" / "summary.json").read_text())
    assert {s["service"] for s in summary} == {"app", "web"}
    assert sum(s["processes"] for s in summary if s["service"] == "app") >= 2  # one app per worker
