"""A service kind from another package, end to end and out of tree.

``tests/plugins/stackrig-tinykv`` (a key-value server and its kind, ``kind = "tinykv"``) is
pip-installed into a throwaway virtualenv; that venv's stackrig then lists the kind, checks it in
``doctor``, runs a pytest suite on it (alone and under pytest-xdist) and locates a mistyped key.
Nothing in stackrig names the kind: it comes from the package's ``stackrig.kinds`` entry point.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import alive

pytestmark = pytest.mark.slow

PLUGIN = Path(__file__).parent / "plugins" / "stackrig-tinykv"


@dataclass(frozen=True)
class Venv:
    root: Path

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    @property
    def python(self) -> str:
        return str(self.bin / "python")

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([self.python, *args], capture_output=True, text=True, timeout=300)


def _bridge(venv: Venv) -> None:
    """Make this environment's packages (stackrig, pytest, pytest-xdist) importable in `venv`.

    ``--system-site-packages`` gives a venv the *base* interpreter's packages; when the tests run in
    a venv themselves (/opt/stackrig-ci-venv), stackrig is not among those.  A ``.pth`` file adds this
    environment's site-packages (and its own ``.pth`` files: stackrig's editable install) after the
    new venv's own, so what is pip-installed into the new venv stays first on ``sys.path``."""
    if sys.prefix == sys.base_prefix:
        return
    purelib = venv.run("-c", "import sysconfig; print(sysconfig.get_path('purelib'))").stdout.strip()
    lines = [f"import site; site.addsitedir({d!r})" for d in site.getsitepackages()]
    (Path(purelib) / "_outer_environment.pth").write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """A fresh venv with stackrig importable and only stackrig-tinykv installed into it."""
    import stackrig

    base = tmp_path_factory.mktemp("tinykv")
    env = Venv(base / "venv")
    made = subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(env.root)],
                          capture_output=True, text=True, timeout=120)
    if made.returncode != 0 or not Path(env.python).exists():
        pytest.skip(f"cannot create a virtualenv on this machine ({sys.executable} -m venv): "
                    f"{(made.stderr or made.stdout).strip()[-400:]}")
    _bridge(env)
    found = env.run("-c", "import stackrig; print(stackrig.__file__)")
    assert found.returncode == 0, f"stackrig is not importable in the new venv:\n{found.stderr}"
    assert Path(found.stdout.strip()) == Path(stackrig.__file__)
    # install from a copy: an in-tree build would leave build/ and *.egg-info in tests/plugins
    source = shutil.copytree(PLUGIN, base / "stackrig-tinykv",
                             ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    # pip is the outer environment's (through the bridge, or the system's): `--without-pip` above
    # skips ensurepip; it installs into the new venv, whose prefix the interpreter reports
    pip = env.run("-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index", "--no-cache-dir",
                  "--disable-pip-version-check", "--quiet", str(source))
    assert pip.returncode == 0, f"pip install failed:\n{pip.stdout}\n{pip.stderr}"
    assert (env.bin / "tinykv-server").is_file()
    return env


@pytest.fixture
def project(pytester: pytest.Pytester, venv: Venv, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A fresh project folder whose commands run with the venv's bin first on PATH (pytester also
    gives them a fresh HOME, so stackrig's caches start empty)."""
    monkeypatch.setenv("PATH", f"{venv.bin}{os.pathsep}{os.environ.get('PATH', os.defpath)}")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("STACKRIG_CACHE_DIR", str(pytester.path / ".cache"))
    for var in ("STACKRIG_STATE", "STACKRIG_PROVIDERS", "VIRTUAL_ENV", "PYTEST_XDIST_WORKER",
                "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(var, raising=False)
    return pytester


STACK = """
[services.kv]
kind = "tinykv"
max_keys = 3
export = { KV_URL = "${url}", KV_NAMESPACE = "${namespace}" }

# an app wired to the kv service by `${...}` (under pytest-xdist: each worker's app to its slice)
[services.app]
kind = "process"
command = ["${python}", "-c", "import os, time; print('app sees', os.environ['KV_URL'], flush=True); time.sleep(600)"]
port = false
depends_on = ["kv"]
ready = { log = "app sees" }
"""

SUITE = """
import json, os, time
from pathlib import Path

import pytest
from stackrig_tinykv import KvClient, TinyKvError

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")


def test_1_writes(rig):
    kv = rig.client("kv")  # the kind's first (here: only) capability
    assert kv is rig.client("kv", "kv")  # cached for the session
    assert isinstance(kv, KvClient) and kv.ping()
    kv.set("greeting", "hello from " + WORKER)
    assert kv.get("greeting") == "hello from " + WORKER
    assert kv.keys() == ["greeting"]


def test_2_the_previous_write_was_flushed(rig):
    assert rig.client("kv").keys() == []


def test_3_attributes_and_exports(rig):
    kv = rig["kv"]
    assert kv.url == f"tinykv://127.0.0.1:{kv.port}/{kv.namespace}" == kv.direct_url
    assert rig.env["KV_URL"] == kv.env["KV_URL"] == kv.url
    assert rig.env["KV_NAMESPACE"] == kv.namespace == (WORKER if WORKER != "main" else "default")
    assert f"app sees {kv.url}" in rig["app"].logs()  # the app got the same URL


def test_4_max_keys_reaches_the_server(rig):
    kv = rig.client("kv")
    for key in "abc":
        kv.set(key, key)
    with pytest.raises(TinyKvError, match="is full"):
        kv.set("d", "d")


def test_5_own_slice(rig):
    kv = rig.client("kv")
    kv.set("who", WORKER)  # every worker writes the same key...
    Path(f"seen-{WORKER}.json").write_text(json.dumps(
        {"namespace": rig["kv"].namespace, "pid": rig["kv"].pid, "port": rig["kv"].port, "app": rig["app"].pid}))
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    deadline = time.monotonic() + 60
    while len(list(Path().glob("seen-*.json"))) < workers:  # ...and waits until all of them did
        assert time.monotonic() < deadline, "the other worker never wrote its key"
        time.sleep(0.02)
    assert kv.get("who") == WORKER  # ...then each reads back its own value


@pytest.mark.skipif(WORKER != "main", reason="an xdist worker does not own the shared server")
def test_6_restart_empties_it_and_the_client_reconnects(rig):
    kv = rig.client("kv")
    kv.set("k", "v")
    before = rig["kv"].pid
    rig["kv"].restart()
    assert rig["kv"].pid != before
    assert kv.get("k") is None
    Path("restarted.json").write_text(json.dumps(rig["kv"].pid))
"""


def _prepare(project: pytest.Pytester) -> None:
    project.makefile(".toml", stackrig=STACK)
    project.makepyfile(test_suite=SUITE)


def test_kinds_lists_the_installed_kind(project: pytest.Pytester, venv: Venv) -> None:
    result = project.run(venv.python, "-m", "stackrig.cli", "kinds", timeout=60)
    assert result.ret == 0, result.stderr.str()
    result.stdout.fnmatch_lines([
        "tinykv * tinykv, a tiny line-protocol key-value server: flushed after each test, a namespace per xdist worker",
        "* from stackrig_tinykv:KIND (stackrig-tinykv); rig clients: kv*",
    ])
    rows = json.loads(project.run(venv.python, "-m", "stackrig.cli", "kinds", "--json", timeout=60).stdout.str())
    by_kind = {row["kind"]: row for row in rows}
    assert by_kind["tinykv"]["from"] == "stackrig_tinykv:KIND (stackrig-tinykv)"
    assert by_kind["tinykv"]["clients"] == ["kv"]
    assert by_kind["redis"]["from"] == "stackrig.kinds.redis:KIND (stackrig)"  # the built-ins, beside it


def test_doctor_finds_the_server_on_path(project: pytest.Pytester, venv: Venv) -> None:
    _prepare(project)
    result = project.run(venv.python, "-m", "stackrig.cli", "doctor", timeout=120)
    exe = venv.bin / "tinykv-server"
    result.stdout.fnmatch_lines([
        f"  kind tinykv * system * 0.1.0 * {exe}",
        f"ok    service kv (tinykv): system 0.1.0 at {exe}",
        "ok    service app (process): no binary needed",
    ])
    fails = [line for line in result.stdout.lines if line.startswith("fail")]
    assert not [line for line in fails if "tinykv" in line or "service kv" in line], fails


def test_doctor_gives_the_install_hint_when_the_server_is_missing(project: pytest.Pytester, venv: Venv) -> None:
    _prepare(project)
    (project.path / "stackrig.toml").write_text(STACK.replace('max_keys = 3', 'max_keys = 3\nversion = ">=9"'))
    result = project.run(venv.python, "-m", "stackrig.cli", "doctor", timeout=120)
    assert result.ret == 1
    result.stdout.fnmatch_lines([
        "fail  service 'kv': no tinykv server '>=9' found",
        "*version 0.1.0 does not satisfy '>=9'*",
        "*fix: pip install stackrig-tinykv; or relax `version = '>=9'`*",
    ])


def test_a_pytest_suite_on_the_kind(project: pytest.Pytester, venv: Venv) -> None:
    _prepare(project)
    result = project.run(venv.python, "-m", "pytest", "-p", "no:randomly", "-p", "no:cacheprovider", "-v",
                         timeout=180)
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(["stackrig: */stackrig.toml (kv, app)", "stackrig: stack * started in * ms"])
    seen = json.loads((project.path / "seen-main.json").read_text())
    assert seen["namespace"] == "default"
    restarted = json.loads((project.path / "restarted.json").read_text())
    assert not [p for p in (seen["pid"], restarted, seen["app"]) if alive(p)]  # all stopped at the end


def test_xdist_workers_share_one_server_each_with_its_namespace(project: pytest.Pytester, venv: Venv) -> None:
    _prepare(project)
    # `--dist each`: both workers run every test, so both run test_5 at the same time
    result = project.run(venv.python, "-m", "pytest", "-p", "no:randomly", "-p", "no:cacheprovider",
                         "-n", "2", "--dist", "each", timeout=180)
    result.assert_outcomes(passed=10, skipped=2)
    result.stdout.fnmatch_lines(["stackrig: * servers shared by the xdist workers, each with its own slice"])
    seen = {path.name[5:-5]: json.loads(path.read_text()) for path in project.path.glob("seen-*.json")}
    assert sorted(seen) == ["gw0", "gw1"]
    assert {s["namespace"] for s in seen.values()} == {"gw0", "gw1"}
    assert len({s["pid"] for s in seen.values()}) == 1  # one server for the session...
    assert len({s["port"] for s in seen.values()}) == 1
    assert len({s["app"] for s in seen.values()}) == 2  # ...and an app per worker
    pids = [seen["gw0"]["pid"], seen["gw0"]["app"], seen["gw1"]["app"]]
    assert not [p for p in pids if alive(p)]  # all stopped at the end


def test_a_mistyped_key_is_located(project: pytest.Pytester, venv: Venv) -> None:
    _prepare(project)
    (project.path / "stackrig.toml").write_text(STACK.replace("max_keys = 3", "max_kyes = 3"))
    expected = "stackrig.toml:4: [services.kv.max_kyes] unknown key 'max_kyes' (did you mean 'max_keys'?)"
    result = project.run(venv.python, "-m", "pytest", "-p", "no:randomly", timeout=120)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert f"{project.path / expected}" in result.stderr.str()
    cli = project.run(venv.python, "-m", "stackrig.cli", "doctor", timeout=60)
    assert cli.ret == 2
    assert f"error: {project.path / expected}" in cli.stderr.str()
    assert "fix: remove it, or use one of: " in cli.stderr.str() and "max_keys" in cli.stderr.str()
