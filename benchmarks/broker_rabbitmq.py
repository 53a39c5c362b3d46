"""kind = "rabbitmq": stackrig vs Debian's rabbitmq-server, pytest-rabbitmq and a hand-written
aio-pika consumer, side by side in one run.

    python benchmarks/broker_rabbitmq.py [--runs 5] [--resets 30] [--latency 1000]
                                         [--peer /var/tmp/rmq-peer]

(a) time to ready: Debian's `rabbitmq-server` script, cold (RABBITMQ_MNESIA_BASE, LOG_BASE,
    NODENAME, ports and ERL_EPMD_PORT pointing at a fresh folder; timed until AMQP answers the
    protocol header with connection.start), vs `Stack.up()` of a stack with one rabbitmq service
    declaring 1 exchange, 2 queues and 2 bindings (the cached node warm; timed until `up()`
    returns).  Runs alternate.  Target: stackrig <= 0.7 x the script.
(a') for the record: stackrig's first run on an empty cache (compiles the helper, builds the
    cached node by booting once with the definitions, then boots the run's copy), and a boot that
    imports the definitions at every start instead of copying the cached Mnesia folder.
(b) per-test clean-up: stackrig's reset after a test that published 10 messages into 2 queues and
    declared a queue of its own, and after a test that changed nothing, vs pytest-rabbitmq's
    `rabbitmq` fixture teardown (`rabbitmqctl list_exchanges` + `list_queues`, then deletes),
    measured in a real pytest run of it (in the venv given by --peer) on Debian's rabbitmq-server.
    Targets: <= 0.05 x pytest-rabbitmq; <= 1 ms for a test that changed nothing.
(t) tap latency: publish (pika, one connection, no confirms) -> `tap.wait_for(subject)` returning,
    vs publish -> a hand-written aio-pika consumer (its own queue on the same exchange, asyncio loop
    on a thread, callback into a queue.Queue) -> `queue.get()` returning.  Both subscribed all the
    time; measurements alternate.  p50 and p99 over --latency events each.  Target: <= 1.5 x.

The peer venv: python -m venv /var/tmp/rmq-peer && /var/tmp/rmq-peer/bin/pip install pytest pytest-rabbitmq
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, median, table, today  # noqa: E402

from stackrig import Stack  # noqa: E402
from stackrig.events import LoopThread  # noqa: E402
from stackrig.kinds.rabbitmq._install import find_install  # noqa: E402
from stackrig.kinds.rabbitmq._reset import RabbitReset  # noqa: E402
from stackrig.kinds.rabbitmq._service import AmqpProbe  # noqa: E402
from stackrig.kinds.rabbitmq._spec import RabbitSpec  # noqa: E402
from stackrig.supervisor import ProbeTarget, allocate_port, wait_ready  # noqa: E402

STACK = """
[services.bus]
kind = "rabbitmq"
exchanges = [{ name = "orders", type = "topic" }]
queues = [{ name = "billing" }, { name = "audit" }]
bindings = [{ exchange = "orders", queue = "billing", routing_key = "order.*" },
            { exchange = "orders", queue = "audit", routing_key = "#" }]
tap_exchange = "orders"
"""


def project(root: Path, text: str = STACK) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    path = root / "stackrig.toml"
    path.write_text(text)
    return path


def with_env(key: str, value: str) -> list[int]:
    """Processes whose environment has key=value (what a run of ours started: found by its marker)."""
    marker = f"{key}={value}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                if marker in Path(f"/proc/{entry}/environ").read_bytes().split(b"\0"):
                    found.append(int(entry))
            except OSError:
                continue
    return found


def kill_marked(key: str, value: str) -> None:
    for pid in with_env(key, value):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


# -- (a) time to ready -------------------------------------------------------------------------
def script_cold_boot(home: Path) -> float:
    """Debian's rabbitmq-server (the real script, not the su wrapper) on a fresh folder."""
    folder = Path(tempfile.mkdtemp(dir="/dev/shm", prefix="rmq-script-"))
    leases = [allocate_port() for _ in range(3)]
    amqp, dist, epmd = (lease.port for lease in leases)
    (folder / "enabled_plugins").write_text("[].\n")
    marker = f"script-{os.getpid()}-{time.monotonic_ns()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RABBITMQ_", "ERL_"))}
    env.update(HOME=str(folder), ERL_EPMD_PORT=str(epmd), RABBITMQ_MNESIA_BASE=str(folder / "mnesia"),
               RABBITMQ_LOG_BASE=str(folder / "log"), RABBITMQ_NODENAME=f"bench{amqp}@localhost",
               RABBITMQ_NODE_PORT=str(amqp), RABBITMQ_DIST_PORT=str(dist), RABBITMQ_NODE_IP_ADDRESS="127.0.0.1",
               RABBITMQ_ENABLED_PLUGINS_FILE=str(folder / "enabled_plugins"), RABBITMQ_PID_FILE=str(folder / "pid"),
               STACKRIG_BENCH=marker)
    script = home / "sbin" / "rabbitmq-server"
    t0 = time.perf_counter()
    proc = subprocess.Popen([str(script)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        ok, code = wait_ready(AmqpProbe(), ProbeTarget("127.0.0.1", amqp, folder / "none"),
                              deadline=time.monotonic() + 120, exited=proc.poll)
        elapsed = time.perf_counter() - t0
        if not ok:
            raise RuntimeError(f"rabbitmq-server did not answer AMQP (exit code {code})")
        return elapsed
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        kill_marked("STACKRIG_BENCH", marker)  # its epmd -daemon, erl_child_setup, ...
        for lease in leases:
            lease.release()
        shutil.rmtree(folder, ignore_errors=True)


def stackrig_boot(path: Path) -> tuple[float, float]:
    stack = Stack.load(path)
    t0 = time.perf_counter()
    rig = stack.up()
    elapsed = time.perf_counter() - t0
    ready = (rig["bus"].info.ready_ms or 0) / 1000
    stack.down()
    return elapsed, ready


def stackrig_first_run(work: Path) -> float:
    cache = work / "empty-cache"
    os.environ["STACKRIG_CACHE_DIR"] = str(cache)
    try:
        t, _ = stackrig_boot(project(work / "first"))
    finally:
        os.environ.pop("STACKRIG_CACHE_DIR", None)
        shutil.rmtree(cache, ignore_errors=True)
    return t


def stackrig_import_at_boot(work: Path) -> float:
    """A run that imports the definitions at boot into an empty Mnesia folder (no cached node)."""
    from stackrig.kinds.rabbitmq import _service

    original = _service.RabbitService.prepare

    def prepare(self: Any, deadline: float) -> None:
        original(self, deadline)
        assert self.options is not None and self.prepared is not None
        shutil.rmtree(self.layout.mnesia)  # as if nothing were cached: the boot imports the file
        self.options.load_definitions = self.prepared / "definitions.json"

    _service.RabbitService.prepare = prepare  # type: ignore[method-assign]
    try:
        t, _ = stackrig_boot(project(work / "import"))
    finally:
        _service.RabbitService.prepare = original  # type: ignore[method-assign]
    return t


# -- (b) per-test clean-up -----------------------------------------------------------------------
def stackrig_resets(path: Path, n: int) -> tuple[list[float], list[float]]:
    import pika

    stack = Stack.load(path)
    rig = stack.up()
    spec = stack.file.services["bus"]
    assert isinstance(spec, RabbitSpec)
    reset = RabbitReset(spec, rig["bus"])
    conn = pika.BlockingConnection(pika.URLParameters(rig["bus"].direct_url))
    ch = conn.channel()
    ch.confirm_delivery()
    dirty, noop = [], []
    try:
        for i in range(n):
            for k in range(10):
                ch.basic_publish("orders", f"order.{k}", json.dumps({"i": i, "k": k}).encode())
            ch.queue_declare(f"scratch-{i}")
            time.sleep(0.02)  # the end of the test: its firehose copies have arrived
            t0 = time.perf_counter()
            reset.after(f"dirty-{i}")
            dirty.append(time.perf_counter() - t0)
            assert reset.last["messages"] >= 10 and reset.last["deleted"] == [f"scratch-{i}"], reset.last
            time.sleep(0.02)
            t0 = time.perf_counter()
            reset.after(f"noop-{i}")
            noop.append(time.perf_counter() - t0)
    finally:
        conn.close()
        reset.close()
        rig.close()
        stack.down()
    return dirty, noop


PEER_TESTS = """
import json
import pytest

@pytest.mark.parametrize("i", range({n}))
def test_publish(rabbitmq, i):
    ch = rabbitmq.channel()
    ch.exchange_declare("orders", "topic")
    for q in ("billing", "audit"):
        ch.queue_declare(q)
    ch.queue_bind("billing", "orders", "order.*")
    ch.queue_bind("audit", "orders", "#")
    ch.queue_declare(f"scratch-{{i}}")
    for k in range(10):
        ch.basic_publish("orders", f"order.{{k}}", json.dumps({{"i": i, "k": k}}).encode())
"""
PEER_CONFTEST = """
import json, os

def pytest_runtest_logreport(report):
    if report.when == "teardown":
        with open(os.environ["TEARDOWNS"], "a") as f:
            f.write(json.dumps(report.duration) + "\\n")
"""


def peer_cleanups(peer: Path, home: Path, n: int, work: Path) -> list[float]:
    folder = work / "peer"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "test_peer.py").write_text(textwrap.dedent(PEER_TESTS.format(n=n)))
    (folder / "conftest.py").write_text(PEER_CONFTEST)
    out = folder / "teardowns.jsonl"
    epmd = allocate_port()
    marker = f"peer-{os.getpid()}-{time.monotonic_ns()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RABBITMQ_", "ERL_"))}
    env.update(HOME=str(folder), ERL_EPMD_PORT=str(epmd.port), TEARDOWNS=str(out), STACKRIG_BENCH=marker)
    env.pop("STACKRIG_STATE", None)
    try:
        done = subprocess.run([str(peer / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                               "-p", "no:stackrig", "-p", "no:randomly",
                               f"--rabbitmq-server={home / 'sbin' / 'rabbitmq-server'}",
                               f"--rabbitmq-ctl={home / 'sbin' / 'rabbitmqctl'}", str(folder)],
                              env=env, cwd=folder, capture_output=True, text=True, timeout=600)
    finally:
        kill_marked("STACKRIG_BENCH", marker)  # the epmd -daemon its rabbitmq-server started
        epmd.release()
    if done.returncode != 0:
        raise RuntimeError(f"the pytest-rabbitmq run failed:\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
    durations = [float(line) for line in out.read_text().splitlines()]
    return durations[:-1]  # the last teardown also stops the session's server


# -- (t) tap latency --------------------------------------------------------------------------------
def latencies(path: Path, n: int) -> tuple[list[float], list[float]]:
    import aio_pika
    import pika

    stack = Stack.load(path)
    rig = stack.up()
    url = rig["bus"].direct_url
    got: queue.Queue[bytes] = queue.Queue()
    loop = LoopThread("hand-written")

    async def subscribe() -> Any:
        conn = await aio_pika.connect(url)
        channel = await conn.channel()
        q = await channel.declare_queue("", exclusive=True, auto_delete=True)
        await q.bind("orders", routing_key="lat.*")

        async def on_message(message: Any) -> None:
            got.put(message.body)

        await q.consume(on_message, no_ack=True)
        return conn

    conn = loop.run(subscribe())
    tap = rig.events("bus", "lat.*")
    pub = pika.BlockingConnection(pika.URLParameters(url))
    ch = pub.channel()
    tap_times, hand_times = [], []
    try:
        for i in range(2 * n + 40):
            body = json.dumps({"i": i}).encode()
            measure_tap = i % 2 == 0
            t0 = time.perf_counter()
            ch.basic_publish("orders", "lat.x", body)
            if measure_tap:
                tap.wait_for("lat.x", match={"i": i}, timeout=10)
                elapsed = time.perf_counter() - t0
                got.get(timeout=10)
            else:
                while got.get(timeout=10) != body:
                    pass
                elapsed = time.perf_counter() - t0
                tap.wait_for("lat.x", match={"i": i}, timeout=10)
            if i >= 40:  # warm-up
                (tap_times if measure_tap else hand_times).append(elapsed)
            if i % 50 == 49:
                tap.clear()
    finally:
        pub.close()
        loop.run(conn.close())
        loop.close()
        rig.close()
        stack.down()
    return tap_times, hand_times


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.3f} ms" if seconds < 0.01 else f"{seconds * 1000:,.0f} ms"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--resets", type=int, default=30)
    ap.add_argument("--latency", type=int, default=1000)
    ap.add_argument("--peer", type=Path, default=Path("/var/tmp/rmq-peer"))
    args = ap.parse_args()
    install = find_install(service="bench", version=None, path=None, root=Path.cwd())
    work = Path(tempfile.mkdtemp(prefix="rmq-bench-"))
    path = project(work / "warm")
    try:
        print(f"# kind = \"rabbitmq\" — {today()}\n\n{machine()}\nRabbitMQ {install.version} at {install.home}, "
              f"Erlang/OTP {install.erlang.otp}; load average {os.getloadavg()[0]:.1f} at the start\n")
        stackrig_boot(path)  # warm: the cached node (and the helper) exist
        script, up, ready = [], [], []
        for _ in range(args.runs):
            script.append(script_cold_boot(install.home))
            t, r = stackrig_boot(path)
            up.append(t)
            ready.append(r)
        first = stackrig_first_run(work)
        imported = stackrig_import_at_boot(work)
        rows = [["(a) rabbitmq-server script, cold (fresh folder)", ms(median(script)), ""],
                ["(a) stackrig Stack.up(), cached node", ms(median(up)), f"{median(up) / median(script):.2f} x"],
                ["    of which the service's prepare + launch + ready", ms(median(ready)), ""],
                ["(a') stackrig, first run on an empty cache", ms(first), f"{first / median(script):.2f} x"],
                ["(a') stackrig, definitions imported at every boot", ms(imported),
                 f"{imported / median(script):.2f} x"]]
        print(table(rows, [f"time to ready (medians of {args.runs} alternating runs)", "time", "vs script"]))
        print(f"\nscript runs: {', '.join(ms(t) for t in script)}; stackrig runs: {', '.join(ms(t) for t in up)}")
        target = median(up) / median(script)
        print(f"target stackrig <= 0.7 x the script: {target:.2f} x — {'met' if target <= 0.7 else 'NOT met'}\n")

        dirty, noop = stackrig_resets(path, args.resets)
        peer = peer_cleanups(args.peer, install.home, max(5, args.resets // 3), work) \
            if (args.peer / "bin" / "python").exists() else []
        rows = [["stackrig reset, test published 10 messages + declared a queue", ms(median(dirty)),
                 f"{median(dirty) / median(peer):.4f} x" if peer else "-"],
                ["stackrig reset, test changed nothing", ms(median(noop)), f"p99 {ms(pct(noop, 99))}"],
                ["pytest-rabbitmq `rabbitmq` fixture teardown", ms(median(peer)) if peer else "(no --peer venv)", ""]]
        print(table(rows, ["per-test clean-up (medians)", "time", "vs pytest-rabbitmq"]))
        if peer:
            ratio = median(dirty) / median(peer)
            print(f"\ntarget <= 0.05 x pytest-rabbitmq: {ratio:.4f} x — {'met' if ratio <= 0.05 else 'NOT met'}")
        print(f"target <= 1 ms for a test that changed nothing: {ms(median(noop))} — "
              f"{'met' if median(noop) <= 0.001 else 'NOT met'}\n")

        tap, hand = latencies(path, args.latency)
        p50, p99 = pct(tap, 50) / pct(hand, 50), pct(tap, 99) / pct(hand, 99)
        rows = [["stackrig tap: publish -> tap.wait_for()", ms(pct(tap, 50)), ms(pct(tap, 99))],
                ["hand-written aio-pika consumer -> queue.get()", ms(pct(hand, 50)), ms(pct(hand, 99))],
                ["ratio", f"{p50:.2f} x", f"{p99:.2f} x"]]
        print(table(rows, [f"tap latency ({len(tap)} events each)", "p50", "p99"]))
        print(f"\ntarget <= 1.5 x at p50 and p99: {'met' if p50 <= 1.5 and p99 <= 1.5 else 'NOT met'}")
        print(f"\nload average at the end: {os.getloadavg()[0]:.1f}; stdev of stackrig boots "
              f"{statistics.pstdev(up) * 1000:.0f} ms, of script boots {statistics.pstdev(script) * 1000:.0f} ms")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
