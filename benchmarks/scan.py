"""`stackrig scan` beside Schemathesis alone, on the same schema, in the same run.

    python benchmarks/scan.py [--app shop|vulnerable] [--runs 2] [--max-examples N] [--seed 1]

The target (`--app`): the shop's API, its whole schema (`examples/shop`, the stack `stackrig up -d`
brings up there; default), or the deliberately vulnerable test app (tests/scan/apps/vulnerable.py:
13 operations, one flaw of every kind, beside a real PostgreSQL). Each run, whole process start to
exit, with a logged-in user's token:

(a) ``schemathesis run URL/openapi.json --checks not_a_server_error`` — Schemathesis's CLI alone;
(b) ``stackrig scan SERVICE`` — the same Schemathesis run (same phases, checks, seed,
    max-examples, one worker, the same auth header) through its Python API, *plus* stackrig's own
    checks: SQL injection (error- and time-based, 2 s delays), XSS, path traversal, CORS, missing
    auth, the login burst, malformed input.

Target: (b) <= 1.5 x (a). Runs alternate which goes first; medians are reported, with what each
found and how many requests it sent.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, median, table, today  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
APPS = REPO / "tests" / "scan" / "apps"
SHOP = REPO / "examples" / "shop"
STACKRIG = [sys.executable, "-m", "stackrig.cli"]
SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))

STACK = """\
[services.db]
kind = "postgres"
export = {{ DATABASE_URL = "${{url}}" }}

[services.vulnerable]
kind = "process"
cwd = "{apps}"
command = "${{python}} -m uvicorn vulnerable:app --host 127.0.0.1 --port ${{self.port}} --log-level warning"
depends_on = ["db"]
ready = {{ http = "/health" }}
env = {{ APP_DATA = "{data}" }}
"""


def timed(cmd: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=1800)
    return time.perf_counter() - start, done


def schemathesis_alone(url: str, token: str, seed: int, max_examples: int | None) -> tuple[float, str]:
    cwd = Path(tempfile.mkdtemp(prefix="st-bench-"))  # no .hypothesis / .schemathesis from an earlier run
    try:
        cmd = [SCHEMATHESIS, "run", f"{url}/openapi.json", "--checks", "not_a_server_error", "--seed", str(seed),
               "--workers", "1", "--header", f"Authorization: Bearer {token}", "--no-color"]
        if max_examples is not None:
            cmd += ["--max-examples", str(max_examples)]
        took, done = timed(cmd, cwd)
        if done.returncode not in (0, 1):
            raise SystemExit(f"schemathesis failed ({done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-2000:]}")
        cases = re.search(r"Test cases:\s*\n?\s*(\d+) generated", done.stdout)
        failures = re.search(r"ST101 Server error: (\d+)", done.stdout)
        return took, (f"{cases.group(1) if cases else '?'} test cases; "
                      f"{failures.group(1) if failures else 0} server errors")
    finally:
        shutil.rmtree(cwd, ignore_errors=True)


def stackrig_scan(project: Path, service: str, token: str, seed: int, max_examples: int | None,
                  extra: list[str]) -> tuple[float, str]:
    cmd = [*STACKRIG, "scan", service, "--seed", str(seed), "--auth", f"Authorization: Bearer {token}", *extra]
    if max_examples is not None:
        cmd += ["--max-examples", str(max_examples)]
    took, done = timed(cmd, project)
    if done.returncode not in (0, 1):
        raise SystemExit(f"stackrig scan failed ({done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-2000:]}")
    summary = re.search(r"^(\d+ findings?: [^—]*) — .*?, (\d+) requests in", done.stdout, re.M)
    kinds = re.findall(r"^([a-z-]+) \((\d+)\)$", done.stdout, re.M)
    if summary is None:
        nothing = re.search(r"^no findings .*?(\d+) requests in", done.stdout, re.M)
        return took, f"no findings; {nothing.group(1)} requests" if nothing else "?"
    return took, (f"{summary.group(1).strip()} ({', '.join(f'{k} {n}' for k, n in kinds)}); "
                  f"{summary.group(2)} requests")


def shop_token(url: str) -> str:
    import httpx

    email = f"bench-{time.time_ns()}@example.com"
    user = {"email": email, "password": "correct horse battery", "name": "Bench"}
    httpx.post(f"{url}/auth/register", json=user, timeout=10).raise_for_status()
    login = httpx.post(f"{url}/auth/login", json={"email": email, "password": user["password"]}, timeout=10)
    login.raise_for_status()
    return str(login.json()["access_token"])


def vulnerable_token(url: str) -> str:
    import httpx

    login = httpx.post(f"{url}/login", json={"username": "alice", "password": "wonderland-secret"}, timeout=10)
    return str(login.json()["access_token"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", choices=("shop", "vulnerable"), default="shop")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--max-examples", type=int, default=None, help="default: Schemathesis's own")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    temporary = None
    if args.app == "shop":
        project, service, extra = SHOP, "api", ["--jwt-secret", "test-secret-not-for-production-0123456789"]
        what = "the shop's API (examples/shop, its whole stack)"
    else:
        project = temporary = Path(tempfile.mkdtemp(prefix="scan-bench-"))
        (project / "stackrig.toml").write_text(STACK.format(apps=APPS, data=project / "data"))
        service, extra, what = "vulnerable", [], "the vulnerable test app (13 operations) with PostgreSQL"
    up = subprocess.run([*STACKRIG, "up", "-d"], cwd=project, capture_output=True, text=True, timeout=900)
    if up.returncode != 0:
        raise SystemExit(f"stackrig up -d failed:\n{up.stdout}{up.stderr}")
    try:
        status = json.loads(subprocess.run([*STACKRIG, "status", "--json"], cwd=project, capture_output=True,
                                           text=True, check=True).stdout)
        url = next(s["url"] for s in status["stack"]["services"] if s["name"] == service)
        token = shop_token(url) if args.app == "shop" else vulnerable_token(url)
        operations = len([op for path in httpx_json(f"{url}/openapi.json")["paths"].values()
                          for op in path if op in ("get", "put", "post", "delete", "patch")])
        alone: list[float] = []
        scans: list[float] = []
        notes: dict[str, str] = {}
        for i in range(args.runs):
            order = ("alone", "scan") if i % 2 == 0 else ("scan", "alone")
            for which in order:
                if which == "alone":
                    took, notes["alone"] = schemathesis_alone(url, token, args.seed, args.max_examples)
                    alone.append(took)
                else:
                    took, notes["scan"] = stackrig_scan(project, service, token, args.seed, args.max_examples,
                                                        extra)
                    scans.append(took)
                print(f"run {i + 1}: {which}: {took:.1f} s", file=sys.stderr, flush=True)
    finally:
        subprocess.run([*STACKRIG, "down"], cwd=project, capture_output=True, text=True, timeout=120)
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)

    a, b = median(alone), median(scans)
    examples = args.max_examples if args.max_examples is not None else "Schemathesis's default"
    print(f"## Security scan: `python benchmarks/scan.py --app {args.app} --runs {args.runs}`"
          + (f" `--max-examples {args.max_examples}`" if args.max_examples else ""))
    print()
    print(f"{today()}, {machine()}; {what}: {operations} operations; seed {args.seed}, "
          f"max-examples: {examples}; {args.runs} runs each, interleaved, medians.")
    print()
    print(table([
        ["(a) schemathesis run --checks not_a_server_error", f"{a:.1f} s", "1.00", notes.get("alone", "")],
        ["(b) stackrig scan (the same run + stackrig's checks)", f"{b:.1f} s", f"{b / a:.2f}", notes.get("scan", "")],
    ], header=["run", "median", "x (a)", "what it did"]))
    print()
    print(f"target (b) <= 1.5 x (a): {'met' if b <= 1.5 * a else 'NOT MET'} ({b / a:.2f})")


def httpx_json(url: str) -> dict[str, Any]:
    import httpx

    return dict(httpx.get(url, timeout=10).json())


if __name__ == "__main__":
    main()
