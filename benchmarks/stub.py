"""Benchmark: stackrig's stub server against WireMock 3.13, side by side, same one-stub mapping.

    python benchmarks/stub.py [--duration 5] [--runs 3] [--mem-requests 1000000] [--json out.json]

Needs ``wrk`` (``apt-get install -y wrk``), ``java`` and the WireMock standalone jar from the npm
package ``wiremock`` (installed on first use into ~/.cache/stackrig-bench/wiremock with npm, or
given with --wiremock-jar / STACKRIG_WIREMOCK_JAR).  Both servers run with their journal on, as
users run them (ours bounded to its default, WireMock's unbounded).  For each concurrency (-c1,
-c32) wrk runs --runs times per server, alternating servers; medians are reported.  Then
--mem-requests more requests go to each and the RSS of both processes is read from /proc.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

CACHE = Path.home() / ".cache" / "stackrig-bench" / "wiremock"
MAPPING = {
    "request": {"method": "GET", "url": "/bench"},
    "response": {"status": 200, "headers": {"Content-Type": "application/json"}, "body": '{"ok":true,"n":1}'},
}
TARGETS = {"rps_c32": 1.2, "p99_c32": 0.2, "rss_mb": 200}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def find_wiremock_jar(given: str | None) -> Path:
    for cand in (given, os.environ.get("STACKRIG_WIREMOCK_JAR")):
        if cand and Path(cand).is_file():
            return Path(cand)
    jars = sorted((CACHE / "node_modules" / "wiremock" / "build").glob("wiremock-standalone-*.jar"))
    if not jars:
        if shutil.which("npm") is None:
            sys.exit("npm is needed to install the WireMock jar (or pass --wiremock-jar)")
        CACHE.mkdir(parents=True, exist_ok=True)
        print(f"installing the npm package 'wiremock' into {CACHE} ...", flush=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "wiremock"], cwd=CACHE, check=True)
        jars = sorted((CACHE / "node_modules" / "wiremock" / "build").glob("wiremock-standalone-*.jar"))
    if not jars:
        sys.exit(f"no wiremock-standalone-*.jar under {CACHE}")
    return jars[-1]


def ensure_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("wrk is missing: apt-get install -y wrk")
    return wrk


@dataclass
class Server:
    name: str
    cmd: list[str]
    port: int
    cwd: Path
    proc: subprocess.Popen[bytes] | None = None
    results: dict[int, list[dict[str, float]]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, deadline: float = 120.0) -> None:
        self.proc = subprocess.Popen(
            self.cmd, cwd=self.cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                sys.exit(f"{self.name} exited with {self.proc.returncode} while starting: {' '.join(self.cmd)}")
            try:
                if httpx.get(self.url + "/bench", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        sys.exit(f"{self.name} did not answer /bench within {deadline}s")

    def rss_mb(self) -> float:
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
        return float("nan")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if not m:
        raise ValueError(f"unparsable latency {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def run_wrk(wrk: str, url: str, connections: int, seconds: int) -> dict[str, float]:
    out = subprocess.run(
        [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    res: dict[str, float] = {}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    res["rps"] = float(m.group(1)) if m else float("nan")
    m = re.search(r"(\d+) requests in", out)
    res["requests"] = float(m.group(1)) if m else 0.0
    for pct in ("50", "99"):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", out, re.MULTILINE)
        res[f"p{pct}"] = _ms(m.group(1)) if m else float("nan")
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    res["errors"] = float(m.group(1)) if m else 0.0
    m = re.search(r"Socket errors: (.*)", out)
    res["socket_errors"] = float(sum(int(x) for x in re.findall(r"\d+", m.group(1)))) if m else 0.0
    return res


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    java = subprocess.run(["java", "-version"], check=False, capture_output=True, text=True).stderr.splitlines()
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "java": java[0] if java else "?",
        "loadavg_at_start": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=int, default=5, help="seconds per wrk run (default 5)")
    ap.add_argument(
        "--runs", type=int, default=3, help="wrk runs per server and concurrency (default 3; median reported)"
    )
    ap.add_argument("--warmup", type=int, default=8, help="seconds of -c32 warm-up per server (JIT) (default 8)")
    ap.add_argument("--mem-requests", type=int, default=1_000_000, help="requests sent before reading RSS (default 1M)")
    ap.add_argument("--wiremock-jar", default=None)
    ap.add_argument("--json", default=None, help="also write the raw results to this file")
    args = ap.parse_args(argv)

    wrk = ensure_wrk()
    jar = find_wiremock_jar(args.wiremock_jar)
    info = machine()
    print("machine:", json.dumps(info), flush=True)
    with tempfile.TemporaryDirectory(prefix="stub-bench-") as tmp:
        root = Path(tmp)
        for sub in ("ours", "wm"):
            (root / sub / "mappings").mkdir(parents=True)
            (root / sub / "mappings" / "bench.json").write_text(json.dumps(MAPPING))
        ours = Server(
            "stackrig",
            [sys.executable, "-m", "stackrig.stub", "--host", "127.0.0.1", "--port", "0", "--root", str(root / "ours")],
            0,
            root,
        )
        ours.port = free_port()
        ours.cmd[ours.cmd.index("0")] = str(ours.port)
        wm_port = free_port()
        wiremock = Server(
            "wiremock",
            [
                "java",
                "-jar",
                str(jar),
                "--port",
                str(wm_port),
                "--bind-address",
                "127.0.0.1",
                "--disable-banner",
                "--root-dir",
                str(root / "wm"),
            ],
            wm_port,
            root,
        )
        servers = [ours, wiremock]
        try:
            for s in servers:
                s.start()
                run_wrk(wrk, s.url + "/bench", 32, args.warmup)  # warm-up (WireMock's JIT)
            for connections in (1, 32):
                for i in range(args.runs):
                    for s in servers:
                        r = run_wrk(wrk, s.url + "/bench", connections, args.duration)
                        s.results.setdefault(connections, []).append(r)
                        print(
                            f"  run {i + 1} -c{connections:<2} {s.name:9} {r['rps']:>9.0f} req/s  "
                            f"p50 {r['p50']:.3f} ms  p99 {r['p99']:.3f} ms  "
                            f"errors {r['errors'] + r['socket_errors']:.0f}",
                            flush=True,
                        )
            rss: dict[str, dict[str, float]] = {}
            for s in servers:
                before = s.rss_mb()
                sent = sum(r["requests"] for rs in s.results.values() for r in rs)
                started = time.monotonic()
                while sent < args.mem_requests:
                    sent += run_wrk(wrk, s.url + "/bench", 32, 5)["requests"]
                rss[s.name] = {
                    "before_mb": before,
                    "after_mb": s.rss_mb(),
                    "requests": sent,
                    "seconds": time.monotonic() - started,
                }
                print(
                    f"  memory {s.name:9} RSS {before:.0f} MB -> {rss[s.name]['after_mb']:.0f} MB "
                    f"after {sent:.0f} requests",
                    flush=True,
                )
        finally:
            for s in servers:
                s.stop()

    def med(s: Server, c: int, key: str) -> float:
        return statistics.median(r[key] for r in s.results[c])

    rows = []
    for c in (1, 32):
        rows.append((f"req/s -c{c}", med(ours, c, "rps"), med(wiremock, c, "rps"), "higher is better"))
        rows.append((f"p50 ms -c{c}", med(ours, c, "p50"), med(wiremock, c, "p50"), "lower is better"))
        rows.append((f"p99 ms -c{c}", med(ours, c, "p99"), med(wiremock, c, "p99"), "lower is better"))
    rows.append(("RSS MB after load", rss["stackrig"]["after_mb"], rss["wiremock"]["after_mb"], "lower is better"))
    print()
    print(f"{'metric':<20}{'stackrig':>12}{'wiremock':>12}{'ratio':>9}")
    for name, a, b, _ in rows:
        print(f"{name:<20}{a:>12.3f}{b:>12.3f}{(a / b if b else float('nan')):>9.2f}")
    rps_ratio = med(ours, 32, "rps") / med(wiremock, 32, "rps")
    p99_ratio = med(ours, 32, "p99") / med(wiremock, 32, "p99")
    print()
    print(
        f"target req/s -c32 >= {TARGETS['rps_c32']} x WireMock: {rps_ratio:.2f} x -> "
        f"{'MET' if rps_ratio >= TARGETS['rps_c32'] else 'NOT MET'}"
    )
    print(
        f"target p99 -c32 <= {TARGETS['p99_c32']} x WireMock: {p99_ratio:.3f} x -> "
        f"{'MET' if p99_ratio <= TARGETS['p99_c32'] else 'NOT MET'}"
    )
    after = rss["stackrig"]["after_mb"]
    print(
        f"target RSS <= {TARGETS['rss_mb']} MB after {rss['stackrig']['requests']:.0f} requests: {after:.0f} MB -> "
        f"{'MET' if after <= TARGETS['rss_mb'] else 'NOT MET'}"
    )
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "machine": info,
                    "args": vars(args),
                    "results": {s.name: {str(c): rs for c, rs in s.results.items()} for s in servers},
                    "rss": rss,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
