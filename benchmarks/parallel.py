"""Wall time of the shop's 200-test leak-detection suite: serial vs pytest-xdist ``-n 2``.

    python benchmarks/parallel.py [--runs 3]

Each run is a fresh ``pytest`` process (stack start-up included), in random order
(pytest-randomly). Target: ``-n 2`` <= 0.6 x serial.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, median, table, today  # noqa: E402

SHOP = Path(__file__).resolve().parent.parent / "examples" / "shop"


def run(extra: list[str]) -> float:
    env = {k: v for k, v in os.environ.items() if k != "STACKRIG_STATE"}
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "randomly", "tests/test_leaks.py", *extra],
                          cwd=SHOP, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - t0
    if done.returncode != 0 or "200 passed" not in done.stdout:
        raise SystemExit(f"suite failed:\n{done.stdout[-3000:]}\n{done.stderr[-1000:]}")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    run([])  # warm caches (baseline cluster, spares)
    serial: list[float] = []
    parallel: list[float] = []
    for i in range(args.runs):
        serial.append(run([]))
        parallel.append(run(["-n", "2"]))
        print(f"run {i + 1}: serial {serial[-1]:.2f} s, -n 2 {parallel[-1]:.2f} s", flush=True)
    s, p = median(serial), median(parallel)
    print(f"\n{machine()}; {today()}; median of {args.runs} runs; 200 tests, random order")
    print(table([
        ["serial", f"{s:.2f} s", ""],
        ["-n 2", f"{p:.2f} s", ""],
        ["-n 2 / serial (target <= 0.6)", f"{p / s:.2f}", "met" if p / s <= 0.6 else "NOT met"],
    ], ["measure", "value", "target"]))


if __name__ == "__main__":
    main()
