"""The example shop's suites, run the way its README says, end to end, as real subprocesses.

The shop (examples/shop) is a system: a Python API, a Node.js inventory service, a Go shipping
service, a notifications worker and a web page over NATS JetStream, PostgreSQL, Redis, S3 (moto),
a payment-gateway stub and an SMTP server.  Three test runners use one stack file: pytest (the
plugin, also in random order and under pytest-xdist), Jest through `stackrig run` with resets over
the control channel, and `go test` through `stackrig run`.

Time on a shared 2-core machine, warm caches (built clusters, node_modules, the Go build), about
4 minutes in all: the pytest suite without the leak tests ~100 s (the browser journey, the load
test and the security scan included), the leak suite ~40-50 s in random order and again with -n 2,
the `stackrig run -- pytest -k ...` attach ~20 s, Jest ~8 s, `go test` ~5 s.  A cold first run
adds `npm ci` (~30 s) and the Go build.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO, run_cli

from stackrig.errors import StackrigError
from stackrig.services import RUNTIMES, find_binary

SHOP = REPO / "examples" / "shop"

pytestmark = pytest.mark.slow


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without a run to attach to (each suite brings its own stack up)."""
    env = {k: v for k, v in os.environ.items() if k != "STACKRIG_STATE"}
    return {**env, **extra}


def runtime(name: str) -> Path:
    """`npm` or `go` as stackrig's providers find them (the system, else the shop extra's wheels)."""
    try:
        return Path(find_binary(RUNTIMES[name], service="test_shop_example").exe)
    except StackrigError as exc:
        pytest.skip(f"no {name}: {exc}")


def test_shop_suite_through_the_plugin() -> None:
    """`python -m pytest examples/shop/tests`: the plugin starts the stack for the session. The leak
    suite runs on its own below (in random order, serial and -n 2)."""
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "examples/shop/tests",
                           "--ignore", "examples/shop/tests/test_leaks.py"],
                          cwd=REPO, capture_output=True, text=True, timeout=900, env=clean_env())
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "stackrig: stack" in done.stdout


def test_shop_suite_through_stackrig_run() -> None:
    done = run_cli("run", "--", sys.executable, "-m", "pytest", "-q", "-x", "-k", "auth or products",
                   cwd=SHOP, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "attached to STACKRIG_STATE=" in done.stdout


def test_leak_detection_suite_in_random_order_and_in_parallel() -> None:
    """200 tests, each asserting it sees exactly the baseline (both databases, Redis, the streams)
    before writing everywhere and running the saga: random order, then -n 2."""
    for extra in ([], ["-n", "2"]):
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "randomly", "tests/test_leaks.py", *extra],
                              cwd=SHOP, capture_output=True, text=True, timeout=600, env=clean_env())
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
        assert "200 passed" in done.stdout


def test_the_inventory_jest_suite_through_stackrig_run() -> None:
    """`stackrig run -- npm --prefix inventory test`, as the README says: Jest + supertest on the same
    stack, resetting it through the control channel after each test (inventory/test/stackrig.js).
    `npm` is the one the inventory service was built with (the run's launchers come first on PATH)."""
    runtime("npm")
    done = run_cli("run", "--", "npm", "--prefix", "inventory", "test", cwd=SHOP, timeout=600, env=clean_env())
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-6000:]
    assert "Tests:       14 passed, 14 total" in out, out[-3000:]


def test_the_shipping_go_tests_through_stackrig_run() -> None:
    """`cd shipping && stackrig run -- go test ./...`: the unit tests, and the running service that
    stackrig built from the same sources (SHIPPING_URL)."""
    runtime("go")
    done = run_cli("run", "--", "go", "test", "-count=1", "-v", "./...", cwd=SHOP / "shipping", timeout=600,
                   env=clean_env())
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-6000:]
    assert "--- PASS: TestRunningService" in out, out[-3000:]  # not skipped: the stack's service answered
    assert "ok  \texample.com/shop/shipping" in out
