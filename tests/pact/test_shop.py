"""The shop's contract end to end: a Node.js web client's consumer test (pact-js, V4) writes a pact;
`stackrig pact verify` checks it against the shop's real API (examples/shop/stackrig.toml) with
the provider states of examples/shop-pact/shop_states.py — SQL through the stack's DATABASE_URL,
a real access token injected into the request from the state."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from pacthelpers import pact_cli

from stackrig.pact import load_pact

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SHOP = REPO / "examples" / "shop"
SHOP_PACT = REPO / "examples" / "shop-pact"


def _npm(*args: str, cwd: Path, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    npm = shutil.which("npm")
    assert npm is not None
    return subprocess.run([npm, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def consumer_pact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`npm ci` and `npm test` of a copy of the consumer project: the pact it writes."""
    if shutil.which("npm") is None or shutil.which("node") is None:
        pytest.skip("node and npm are needed for the consumer test (apt install nodejs npm)")
    work = tmp_path_factory.mktemp("shop-web")
    project = work / "consumer"
    shutil.copytree(SHOP_PACT / "consumer", project, ignore=shutil.ignore_patterns("node_modules"))
    pacts = work / "pacts"
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
    assert "# pass 4" in tested.stdout and "# fail 0" in tested.stdout
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


_LINES = ("a request for a product that does not exist (given no products exist)",
          "a request for product 1 (given a product with id 1 exists)",
          "a request for the products (given a product with id 1 exists)",
          "a request for the signed-in user (given a user with email bob@shop.example exists)")


def _verify(stack_file: Path, pact: Path) -> subprocess.CompletedProcess[str]:
    return pact_cli("-f", str(stack_file), "pact", "verify", str(pact), "--provider", "api",
                    "--states", str(SHOP_PACT / "shop_states.py"), cwd=stack_file.parent, timeout=900)


def _holds(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 0, done.stdout + done.stderr
    for line in _LINES:
        assert f"  ok    shop-web -> shop-api: {line}" in done.stdout
    assert "all 4 interactions hold" in done.stdout
    assert "the stack brought up for this run" in done.stderr  # a private stack: nobody else's data is reset


def test_a_stand_in_of_the_shop_api_honours_it(consumer_pact: Path, tmp_path: Path) -> None:
    """tests/pact/shop_api: the shop's products and auth routes on FastAPI and PostgreSQL, the same
    schema, so the pact's verification does not depend on the shop's rewrite in progress."""
    folder = tmp_path / "shop_api"
    shutil.copytree(Path(__file__).parent / "shop_api", folder, ignore=shutil.ignore_patterns("__pycache__"))
    _holds(_verify(folder / "stackrig.toml", consumer_pact))


def test_the_shop_api_honours_it(consumer_pact: Path, tmp_path: Path) -> None:
    """The real shop (examples/shop/stackrig.toml), on a private copy: `stackrig pact verify` would
    otherwise attach to a stack someone runs there with `stackrig up -d` and reset its data."""
    folder = tmp_path / "shop"
    shutil.copytree(SHOP, folder, symlinks=True, ignore=shutil.ignore_patterns(
        ".stackrig", "__pycache__", ".pytest_cache", ".mypy_cache"))
    done = _verify(folder / "stackrig.toml", consumer_pact)
    if done.returncode != 0 and "pact verify: " not in done.stdout:
        pytest.skip("the shop's stack (examples/shop, being rewritten) did not start: "
                    + done.stderr.strip()[-800:])
    _holds(done)
