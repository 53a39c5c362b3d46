"""The example shop's own integration suite, run the way its README says, end to end."""

from __future__ import annotations

import os
import subprocess
import sys

from helpers import REPO, run_cli

SHOP = REPO / "examples" / "shop"


def test_shop_suite_through_the_plugin() -> None:
    """`python -m pytest examples/shop/tests`: the plugin starts the stack for the session."""
    env = {k: v for k, v in os.environ.items() if k != "STACKRIG_STATE"}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "examples/shop/tests"],
                          cwd=REPO, capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "stackrig: stack" in done.stdout


def test_shop_suite_through_stackrig_run() -> None:
    done = run_cli("run", "--", sys.executable, "-m", "pytest", "-q", "-x", "-k", "auth or products",
                   cwd=SHOP, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "attached to STACKRIG_STATE=" in done.stdout


def test_leak_detection_suite_in_random_order_and_in_parallel() -> None:
    """200 tests, each asserting it sees exactly the baseline before writing: random order, -n 2."""
    env = {k: v for k, v in os.environ.items() if k != "STACKRIG_STATE"}
    for extra in ([], ["-n", "2"]):
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "randomly", "tests/test_leaks.py", *extra],
                              cwd=SHOP, capture_output=True, text=True, timeout=600, env=env)
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
        assert "200 passed" in done.stdout
