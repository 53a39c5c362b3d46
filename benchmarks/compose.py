"""Time to ready of a postgres + redis + app compose file: stackrig from the compose file, stackrig from
the equivalent stackrig.toml, and — where a container engine runs — `docker compose up --wait`.

    python benchmarks/compose.py [--runs 7]

Each measure is a fresh Python process that loads the stack file and brings it up (imports included,
interpreter start excluded), runs interleaved, medians reported.  The stackrig.toml is the one
`stackrig import compose` writes, with the versions the compose run pins, so both run the same
stack; what the compose file costs on top is reading YAML and the Dockerfile and mapping.
Target: compose ≤ 1.1 × stackrig.toml.  `docker compose` runs only when `docker info` succeeds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, median, table, today  # noqa: E402

COMPOSE = """\
services:
  db:
    image: postgres:15
    environment:
      POSTGRES_DB: bench
      POSTGRES_PASSWORD: bench
    ports: ["5432:5432"]
    healthcheck:
      test: ["CMD-SHELL", "pg_isready -U postgres"]
      interval: 2s
  cache:
    image: redis:6
    ports: ["6379:6379"]
  app:
    build: .
    environment:
      DATABASE_URL: postgresql://postgres:bench@db:5432/bench
      REDIS_URL: redis://cache:6379/0
    ports: ["8000:8000"]
    depends_on:
      db: {condition: service_healthy}
      cache: {condition: service_started}
    healthcheck:
      test: ["CMD", "curl", "-f", "http://localhost:8000/health"]
"""

DOCKERFILE = """\
FROM python:3.11-slim
WORKDIR /app
RUN pip install psycopg[binary] redis
COPY . .
ENV PORT=8000
EXPOSE 8000
CMD ["python", "-m", "benchapp"]
"""

APP = """\
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg
import redis

DB = os.environ["DATABASE_URL"]
CACHE = redis.Redis.from_url(os.environ["REDIS_URL"])


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        with psycopg.connect(DB) as conn:
            conn.execute("SELECT 1")
        CACHE.ping()
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("0.0.0.0", int(os.environ["PORT"])), Handler).serve_forever()
"""

MEASURE = """\
import sys, time
t0 = time.perf_counter()
path = sys.argv[1]
if path.endswith((".yml", ".yaml")):
    from stackrig.compose import load_stack
else:
    from stackrig.services import load_stack
from stackrig import Stack
stack = Stack(load_stack(path))
loaded = time.perf_counter() - t0
if sys.argv[2] == "up":
    stack.up()
ready = time.perf_counter() - t0
if sys.argv[2] == "up":
    stack.down()
print(f"{loaded:.4f} {ready:.4f}")
"""


def _project(root: Path) -> tuple[Path, Path]:
    (root / "benchapp").mkdir()
    (root / "benchapp" / "__init__.py").write_text("")
    (root / "benchapp" / "__main__.py").write_text(APP)
    (root / "Dockerfile").write_text(DOCKERFILE)
    compose = root / "docker-compose.yml"
    compose.write_text(COMPOSE)
    from stackrig.compose import load_compose
    from stackrig.compose._toml import render

    loaded = load_compose(compose)
    versions = {n: getattr(s, "version", None) for n, s in loaded.stack.services.items()}
    toml = root / "stackrig.toml"
    toml.write_text(render(loaded.assembled, comments=True, versions=versions))
    return compose, toml


def _env(pycache: Path) -> dict[str, str]:
    """Bytecode cached, as in any installed copy (in a temporary prefix: the source tree stays clean), even where
    PYTHONDONTWRITEBYTECODE is set — else every run compiles every module it imports, the compose modules too."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def _once(path: Path, env: dict[str, str], what: str = "up") -> float:
    """Seconds from the process's first line to ready (`what="up"`), or to the loaded stack (`"load"`)."""
    done = subprocess.run([sys.executable, "-c", MEASURE, str(path), what], capture_output=True, text=True,
                          cwd=path.parent, timeout=300, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{path.name}: {done.stderr[-2000:]}")
    loaded, ready = done.stdout.strip().splitlines()[-1].split()
    return float(ready if what == "up" else loaded)


def _docker(compose: Path, runs: int) -> str | list[float]:
    try:
        info = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True,
                              timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"skipped: no container engine ({exc})"
    if info.returncode != 0:
        why = (info.stderr.strip().splitlines() or ["docker info failed"])[-1]
        return f"skipped: no container engine here (`docker info`: {why})"
    times = []
    base = ["docker", "compose", "-f", str(compose), "-p", f"stackrig-bench-{os.getpid()}"]
    subprocess.run([*base, "build"], capture_output=True, timeout=1800)
    for _ in range(runs):
        t0 = time.perf_counter()
        up = subprocess.run([*base, "up", "-d", "--wait"], capture_output=True, text=True, timeout=600)
        elapsed = time.perf_counter() - t0
        subprocess.run([*base, "down", "-v"], capture_output=True, timeout=600)
        if up.returncode != 0:
            return f"failed: {up.stderr[-300:]}"
        times.append(elapsed)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stackrig-bench-compose-") as d:
        compose, toml = _project(Path(d))
        env = _env(Path(d) / "pycache")
        for path in (compose, toml):  # warm: bytecode, the prepared cluster, the versions and image caches
            _once(path, env)
        results: dict[str, list[float]] = {"compose": [], "toml": [], "compose-load": [], "toml-load": []}
        for _ in range(args.runs):
            results["compose"].append(_once(compose, env))
            results["toml"].append(_once(toml, env))
            results["compose-load"].append(_once(compose, env, "load"))
            results["toml-load"].append(_once(toml, env, "load"))
        docker = _docker(compose, min(args.runs, 3))
    c, t = median(results["compose"]), median(results["toml"])
    rows = [["stackrig, docker-compose.yml", f"{c * 1000:.0f} ms", f"{c / t:.3f}"],
            ["stackrig, the equivalent stackrig.toml", f"{t * 1000:.0f} ms", "1.000"]]
    if isinstance(docker, list):
        dm = median(docker)
        rows.append(["docker compose up -d --wait", f"{dm * 1000:.0f} ms", f"{dm / t:.3f}"])
    print(f"# compose: time to ready, postgres + redis + app ({today()}; {machine()})\n")
    print(f"medians of {args.runs} interleaved runs (each a fresh process: imports, load, up)\n")
    print(table(rows, ["stack", "time to ready", "× stackrig.toml"]))
    cl, tl = median(results["compose-load"]), median(results["toml-load"])
    print(f"\nthe load alone (imports + the stack file to a validated stack, warm caches): compose {cl * 1000:.0f} ms, "
          f"stackrig.toml {tl * 1000:.0f} ms (+{(cl - tl) * 1000:.0f} ms)")
    print()
    print(f"target compose ≤ 1.1 × stackrig.toml: {'met' if c / t <= 1.1 else 'NOT met'} ({c / t:.3f})")
    if not isinstance(docker, list):
        print(f"docker compose up --wait: {docker}")
    cm, tm = statistics.fmean(results["compose"]), statistics.fmean(results["toml"])
    print(f"means: compose {cm * 1000:.0f} ms, stackrig.toml {tm * 1000:.0f} ms ({cm / tm:.3f}); minima: compose "
          f"{min(results['compose']) * 1000:.0f} ms, stackrig.toml {min(results['toml']) * 1000:.0f} ms "
          f"({min(results['compose']) / min(results['toml']):.3f})")
    print("\nall runs (s): compose " + " ".join(f"{x:.3f}" for x in results["compose"])
          + " | toml " + " ".join(f"{x:.3f}" for x in results["toml"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
