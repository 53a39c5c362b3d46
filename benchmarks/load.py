"""Benchmark: `stackrig load`'s generator beside Locust headless alone and `wrk`, in one run, on one stub.

    python benchmarks/load.py [--users 10] [--duration 10] [--short 3] [--json out.json]

One stackrig `http-stub` serves ``/fast`` (no delay) and ``/slow`` (``fixedDelayMilliseconds: 50``).

(1) **Ceiling, req/s per core of the generator.** Each generator runs flat out on ``/fast``
    (HttpUser and FastHttpUser with no wait time; wrk -t1) twice, for --short and --duration
    seconds; its CPU time is read from ``getrusage(RUSAGE_CHILDREN)`` around each run. Per core =
    (requests of the long run - requests of the short) / (CPU of the long - CPU of the short): start-up
    (importing Locust, spawning users) and shutdown cancel out, what remains is the steady cost per
    request. For stackrig the generator is the `python -m stackrig.load` child (Locust plus the
    request hook into the HDR histograms); the parent only waits.
(2) **Latency error against the known delay.** Each runs --users users (wrk: connections) on
    ``/slow`` for --duration seconds; its reported p50 (and p90, p99) against the true 50 ms.
    Locust's numbers are its own (``--csv``: rounded to 2 significant digits above 100 ms, to the
    ms below); stackrig's come from the HDR histogram; wrk's from ``--latency``.
    Target: stackrig's p50 within 5 % of 50 ms.

Needs ``wrk`` (``apt-get install -y wrk``) and ``locust`` (the venv's). The machine's load average is
printed before and after: on a shared machine the numbers move with it.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, table, today  # noqa: E402

from stackrig import Stack  # noqa: E402
from stackrig.load import run_load  # noqa: E402

DELAY_MS = 50
TARGET_ERROR = 0.05
MAPPINGS = {
    "fast.json": {"request": {"method": "GET", "url": "/fast"}, "response": {"status": 200, "body": "ok"}},
    "slow.json": {"request": {"method": "GET", "url": "/slow"},
                  "response": {"status": 200, "body": "ok", "fixedDelayMilliseconds": DELAY_MS}},
}
LOCUSTFILE = '''\
from locust import {cls}, task


class Bench({cls}):
    @task
    def hit(self):
        self.client.get("{path}")
'''


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def locustfile(folder: Path, cls: str, path: str) -> Path:
    file = folder / f"bench_{cls.lower()}_{path.strip('/')}.py"
    file.write_text(LOCUSTFILE.format(cls=cls, path=path))
    return file


def run_stackrig(file: Path, url: str, users: int, seconds: float) -> dict[str, Any]:
    before, started = children_cpu(), time.perf_counter()
    result = run_load(file, url, users=users, duration=seconds)
    row = result.requests["all"]
    return {"requests": row.count, "failures": row.failures, "cpu_s": children_cpu() - before,
            "wall_s": time.perf_counter() - started, "p50": row.p50_ms, "p90": row.p90_ms, "p99": row.p99_ms}


def run_locust(file: Path, url: str, users: int, seconds: float, work: Path) -> dict[str, Any]:
    prefix = work / f"locust-{time.monotonic_ns()}"
    exe = shutil.which("locust") or str(Path(sys.executable).with_name("locust"))
    before, started = children_cpu(), time.perf_counter()
    done = subprocess.run([exe, "-f", str(file), "--headless", "-H", url, "-u", str(users), "-r", str(users),
                           "-t", f"{int(seconds)}s", "--only-summary", "--csv", str(prefix), "--loglevel", "WARNING"],
                          capture_output=True, text=True)
    cpu, wall = children_cpu() - before, time.perf_counter() - started
    with open(f"{prefix}_stats.csv") as f:
        total = next(row for row in csv.DictReader(f) if row["Name"] == "Aggregated")
    if done.returncode not in (0, 1):
        raise SystemExit(f"locust failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return {"requests": int(total["Request Count"]), "failures": int(total["Failure Count"]), "cpu_s": cpu,
            "wall_s": wall, "p50": float(total["50%"]), "p90": float(total["90%"]), "p99": float(total["99%"])}


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def run_wrk(url: str, connections: int, seconds: float) -> dict[str, Any]:
    before, started = children_cpu(), time.perf_counter()
    done = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{int(seconds)}s", "--latency", url],
                          capture_output=True, text=True, check=True)
    cpu, wall = children_cpu() - before, time.perf_counter() - started
    out = done.stdout
    pct = {p: float(v) * _UNITS[u] for p, v, u in re.findall(r"^\s+(50|90|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)}
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"requests": requests, "failures": int(errors.group(1)) if errors else 0, "cpu_s": cpu, "wall_s": wall,
            "p50": pct.get("50"), "p90": pct.get("90"), "p99": pct.get("99")}


def loadavg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=10, help="users (wrk: connections) on /slow")
    parser.add_argument("--ceiling-users", type=int, default=20, help="users (connections) flat out on /fast")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of the long runs")
    parser.add_argument("--short", type=float, default=3.0, help="seconds of the short ceiling runs")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found; fix: apt-get install -y wrk")
    work = Path(tempfile.mkdtemp(prefix="stackrig-bench-load-"))
    (work / "stubs" / "mappings").mkdir(parents=True)
    for name, mapping in MAPPINGS.items():
        (work / "stubs" / "mappings" / name).write_text(json.dumps(mapping))
    (work / "stackrig.toml").write_text('[services.stub]\nkind = "http-stub"\nmappings = "stubs"\n'
                                        "journal_limit = 0\n")
    print(f"# load generator benchmark, {today()}\n\n{machine()}; load average before: {loadavg()}\n", flush=True)
    stack = Stack.load(work / "stackrig.toml")
    rig = stack.up()
    url = rig["stub"].url
    figures: dict[str, Any] = {"machine": machine(), "date": today(), "ceiling": {}, "latency": {}}
    try:
        generators = {
            "stackrig load (HttpUser)": lambda path, users, s: run_stackrig(locustfile(work, "HttpUser", path), url,
                                                                            users, s),
            "stackrig load (FastHttpUser)": lambda path, users, s: run_stackrig(
                locustfile(work, "FastHttpUser", path), url, users, s),
            "locust --headless (HttpUser)": lambda path, users, s: run_locust(
                locustfile(work, "HttpUser", path), url, users, s, work),
            "locust --headless (FastHttpUser)": lambda path, users, s: run_locust(
                locustfile(work, "FastHttpUser", path), url, users, s, work),
            "wrk -t1": lambda path, users, s: run_wrk(url + path, users, s),
        }
        rows = []
        for name, run in generators.items():
            short = run("/fast", args.ceiling_users, args.short)
            long = run("/fast", args.ceiling_users, args.duration)
            per_core = (long["requests"] - short["requests"]) / max(long["cpu_s"] - short["cpu_s"], 1e-9)
            rps = long["requests"] / args.duration
            util = long["cpu_s"] / long["wall_s"]
            figures["ceiling"][name] = {"short": short, "long": long, "per_core": per_core}
            rows.append([name, f"{rps:,.0f}", f"{util:.2f}", f"{per_core:,.0f}", str(long["failures"])])
            print(f"  ceiling: {name}: {per_core:,.0f} req/s per core", file=sys.stderr, flush=True)
        print(f"## (1) ceiling on /fast, {args.ceiling_users} users flat out\n")
        print(table(rows, ["generator", "req/s (long run)", "CPU cores used", "req/s per core (steady)",
                           "failures"]) + "\n", flush=True)
        rows = []
        for name, run in generators.items():
            got = run("/slow", args.users, args.duration)
            error = (got["p50"] - DELAY_MS) / DELAY_MS if got["p50"] is not None else float("nan")
            figures["latency"][name] = {**got, "p50_error": error}
            rows.append([name, str(got["requests"]), f"{got['p50']:.3f}", f"{got['p90']:.3f}", f"{got['p99']:.3f}",
                         f"{error * 100:+.2f} %"])
            print(f"  latency: {name}: p50 {got['p50']:.3f} ms", file=sys.stderr, flush=True)
        print(f"## (2) latency against a fixed {DELAY_MS} ms delay on /slow, {args.users} users, "
              f"{args.duration:g} s\n")
        print(table(rows, ["generator", "requests", "p50 ms", "p90 ms", "p99 ms", "p50 error"]) + "\n")
        ours = figures["latency"]["stackrig load (HttpUser)"]["p50_error"]
        fast = figures["latency"]["stackrig load (FastHttpUser)"]["p50_error"]
        verdict = "met" if max(abs(ours), abs(fast)) <= TARGET_ERROR else "NOT met"
        print(f"target: stackrig's p50 within {TARGET_ERROR:.0%} of {DELAY_MS} ms: {verdict} "
              f"(HttpUser {ours * 100:+.2f} %, FastHttpUser {fast * 100:+.2f} %)")
        print(f"\nload average after: {loadavg()}")
        figures["target_met"] = verdict == "met"
    finally:
        stack.down()
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
