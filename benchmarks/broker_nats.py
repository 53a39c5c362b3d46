"""kind = "nats": stackrig vs nats-server started by hand and a hand-written nats-py subscriber,
side by side in one run.

    python benchmarks/broker_nats.py [--runs 11] [--latency 1000] [--events 1000000]

(a) time to ready, JetStream on, nothing declared: `StackRunner.up()` of a one-service stack, vs a
    direct start of the same nats-server binary with the same configuration file (`-c`), polled the
    same way (the same NATS + JetStream handshake probe, the same 2-5 ms poll loop).  Target: <= 1.3.
(a') the same with 2 streams and 2 durable consumers declared, vs the direct start followed by a
    hand-written creation of the same streams and consumers (one raw connection, the same requests).
(r) the per-test reset: after a test that changed nothing (the one-request check), and after one
    that published 10 messages into a stream (check, list, purge, re-read), medians.
(t) tap latency: publish (one raw socket, no flush) -> `tap.wait_for(subject)` returning, vs
    publish -> a hand-written nats-py subscriber (asyncio loop on a thread, callback into a
    queue.Queue) -> `queue.get()` returning.  Both subscribed all the time to the same server and
    subject; measurements alternate between them.  p50 and p99 over --latency events each.
    Target: tap <= 1.5 x hand-written, at p50 and p99.
(m) memory: the RSS of this process while one tap with the default limit (10 000) receives
    --events events (64-byte JSON bodies): it must stay flat once the tap's buffer is full.
"""

from __future__ import annotations

import argparse
import json
import queue
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, median, table, today  # noqa: E402

from stackrig import Stack, load_stack  # noqa: E402
from stackrig.events import DEFAULT_LIMIT, LoopThread  # noqa: E402
from stackrig.kinds.nats import NatsProbe, NatsSpec  # noqa: E402
from stackrig.kinds.nats._jetstream import JetStreamAdmin, consumer_config, stream_config  # noqa: E402
from stackrig.kinds.nats._reset import StreamReset  # noqa: E402
from stackrig.kinds.nats._service import server_config  # noqa: E402
from stackrig.run import StackRunner  # noqa: E402
from stackrig.supervisor import ProbeTarget, allocate_port, wait_ready  # noqa: E402

EMPTY = '[services.events]\nkind = "nats"\njetstream = true\n'
FULL = EMPTY + """streams = [{ name = "ORDERS", subjects = ["orders.>"] },
           { name = "PAYMENTS", subjects = ["payments.>"], storage = "memory" }]
consumers = [{ stream = "ORDERS", durable = "mailer", filter_subject = "orders.created" },
             { stream = "PAYMENTS", durable = "ledger" }]
"""


def project(root: Path, text: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    path = root / "stackrig.toml"
    path.write_text(text)
    return path


# -- (a) time to ready --------------------------------------------------------------------
def stackrig_ready(path: Path) -> tuple[float, float, str]:
    runner = StackRunner(load_stack(path))
    t0 = time.perf_counter()
    record = runner.up()
    elapsed = time.perf_counter() - t0
    svc = record.services[0]
    exe = svc.source
    runner.down()
    return elapsed, (svc.ready_ms or 0) / 1000, exe


def direct_ready(exe: str, spec: NatsSpec, work: Path, declare: bool) -> float:
    """The same binary and configuration, started by hand and polled the same way."""
    folder = Path(tempfile.mkdtemp(dir="/dev/shm", prefix="nats-direct-"))
    port, monitor = allocate_port(), allocate_port()
    conf = folder / "nats.conf"
    conf.write_text(server_config(spec, "127.0.0.1", port.port, monitor.port, folder / "jetstream"))
    url = f"nats://127.0.0.1:{port.port}"
    log = open(folder / "nats.log", "wb")
    t0 = time.perf_counter()
    proc = subprocess.Popen([exe, "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT, cwd=folder)
    ok, _ = wait_ready(NatsProbe(url, True), ProbeTarget("127.0.0.1", port.port, folder / "nats.log"),
                       deadline=time.monotonic() + 30, exited=proc.poll)
    if declare:
        with JetStreamAdmin(url) as admin:
            for stream in spec.streams:
                admin.create_stream(stream_config(stream))
            for consumer in spec.consumers:
                admin.create_consumer(consumer.stream, consumer_config(consumer))
    elapsed = time.perf_counter() - t0
    proc.kill()
    proc.wait()
    log.close()
    port.release()
    monitor.release()
    shutil.rmtree(folder, ignore_errors=True)
    if not ok:
        raise SystemExit("the direct nats-server start failed")
    return elapsed


def bench_ready(runs: int, work: Path) -> tuple[list[list[str]], str]:
    rows = []
    binary = ""
    for folder, name, text, declare in (("empty", "(a) empty, JetStream on", EMPTY, False),
                                        ("declared", "(a') 2 streams, 2 consumers", FULL, True)):
        path = project(work / folder, text)
        spec = load_stack(path).services["events"]
        assert isinstance(spec, NatsSpec)
        stackrig_ready(path)  # warm-up: the binary's version is cached, the imports done
        exe = _exe()
        direct_ready(exe, spec, work, declare)
        up, ready, direct = [], [], []
        for _ in range(runs):
            u, r, binary = stackrig_ready(path)
            up.append(u)
            ready.append(r)
            direct.append(direct_ready(exe, spec, work, declare))
        mu, mr, md = median(up), median(ready), median(direct)
        rows.append([name, f"{mu * 1000:.1f} ms", f"{mr * 1000:.1f} ms", f"{md * 1000:.1f} ms",
                     f"{mu / md:.2f}", f"{mr / md:.2f}", "met" if mu / md <= 1.3 else "NOT met"])
    return rows, binary


def _exe() -> str:
    from stackrig.kinds.nats import NATS
    from stackrig.services import find_binary

    return str(find_binary(NATS, service="bench").exe)


# -- (r) the per-test reset -------------------------------------------------------------------
def bench_reset(work: Path, iterations: int) -> list[list[str]]:
    path = project(work / "reset", FULL)
    spec = load_stack(path).services["events"]
    assert isinstance(spec, NatsSpec)
    with Stack.load(path) as rig:
        reset = StreamReset(spec, rig["events"])
        noop, dirty = [], []
        for _ in range(iterations):
            t0 = time.perf_counter()
            reset.after("noop")
            noop.append(time.perf_counter() - t0)
            assert not reset.last.changed
        publisher = rig.client("events", "events")
        for _ in range(iterations):
            for i in range(10):
                publisher.publish("orders.created", {"i": i}, jetstream=True)
            t0 = time.perf_counter()
            reset.after("dirty")
            dirty.append(time.perf_counter() - t0)
            assert reset.last.actions == ["purged stream ORDERS (10 messages)"], reset.last
        reset.close()
    return [["(r) reset after a test that changed nothing", f"{median(noop) * 1000:.3f} ms",
             f"p99 {sorted(noop)[int(len(noop) * 0.99) - 1] * 1000:.3f} ms"],
            ["(r) reset after a test that stored 10 messages", f"{median(dirty) * 1000:.3f} ms",
             f"p99 {sorted(dirty)[int(len(dirty) * 0.99) - 1] * 1000:.3f} ms"]]


# -- (t) latency, (m) memory ------------------------------------------------------------------
class RawPublisher:
    """One plain socket speaking just enough NATS to publish (no flush: nothing waits on it)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.file = self.sock.makefile("rb")
        self.file.readline()  # INFO
        self.sock.sendall(b'CONNECT {"verbose":false,"pedantic":false}\r\nPING\r\n')
        while self.file.readline().strip() != b"PONG":
            pass

    def publish(self, subject: str, data: bytes) -> None:
        self.sock.sendall(b"PUB %s %d\r\n%s\r\n" % (subject.encode(), len(data), data))

    def publish_many(self, subjects_and_data: list[tuple[str, bytes]]) -> None:
        self.sock.sendall(b"".join(b"PUB %s %d\r\n%s\r\n" % (s.encode(), len(d), d) for s, d in subjects_and_data))

    def flush(self) -> None:
        self.sock.sendall(b"PING\r\n")
        while self.file.readline().strip() != b"PONG":
            pass

    def close(self) -> None:
        self.sock.close()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * len(ordered))) - 1)]


def bench_latency(work: Path, n: int) -> list[list[str]]:
    import nats  # the hand-written subscriber's client

    path = project(work / "latency", EMPTY)
    with Stack.load(path) as rig:
        url = rig["events"].direct_url
        tap = rig.events("events", "bench.>")
        loop = LoopThread("hand-written")
        inbox: queue.Queue[Any] = queue.Queue()

        async def subscribe() -> Any:
            nc = await nats.connect(url)

            async def cb(msg: Any) -> None:
                inbox.put(msg)

            await nc.subscribe("bench.>", cb=cb)
            await nc.flush()
            return nc

        nc = loop.run(subscribe())
        pub = RawPublisher(rig["events"].port or 0)
        body = json.dumps({"id": 0, "pad": "x" * 40}).encode()
        for i in range(200):  # warm-up
            pub.publish(f"bench.w{i}", body)
            tap.wait_for(f"bench.w{i}")
            inbox.get(timeout=5)
        tap_times, hand_times = [], []
        for i in range(2 * n):
            subject = f"bench.{i}"
            t0 = time.perf_counter()
            pub.publish(subject, body)
            if i % 2 == 0:
                tap.wait_for(subject, timeout=5)
                tap_times.append(time.perf_counter() - t0)
                got = inbox.get(timeout=5)
            else:
                got = inbox.get(timeout=5)
                hand_times.append(time.perf_counter() - t0)
                tap.wait_for(subject, timeout=5)
            assert got.subject == subject
        pub.close()
        loop.run(nc.close())
        loop.close()
    rows = []
    for p in (50, 99):
        t, h = percentile(tap_times, p) * 1e6, percentile(hand_times, p) * 1e6
        rows.append([f"(t) p{p}, publish -> received", f"{t:.0f} µs", f"{h:.0f} µs", f"{t / h:.2f}",
                     "met" if t / h <= 1.5 else "NOT met"])
    return rows


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def bench_memory(work: Path, total: int) -> tuple[list[list[str]], str]:
    path = project(work / "memory", EMPTY)
    checkpoints = sorted({DEFAULT_LIMIT, total // 10, total // 4, total // 2, 3 * total // 4, total})
    rows = []
    with Stack.load(path) as rig:
        tap = rig.events("events", "mem.>")
        pub = RawPublisher(rig["events"].port or 0)
        rows.append(["before", "0", f"{rss_mb():.1f} MB"])
        sent = 0
        batch = 2000
        t0 = time.perf_counter()
        for checkpoint in checkpoints:
            while sent < checkpoint:
                count = min(batch, checkpoint - sent)
                pub.publish_many([(f"mem.{(sent + i) % 100}", b'{"id":%d,"pad":"%s"}' % (sent + i, b"x" * 36))
                                  for i in range(count)])
                sent += count
                # keep at most a few batches in flight: the tap is never a slow consumer for the server
                want = sent - 4 * batch
                while tap._seq < want:  # the count fed, without copying the buffer
                    time.sleep(0.001)
            while tap._seq < sent:
                time.sleep(0.001)
            rows.append([f"after {checkpoint:,} events", f"{len(tap.events):,} kept, {tap.dropped:,} dropped",
                         f"{rss_mb():.1f} MB"])
        elapsed = time.perf_counter() - t0
        assert tap.events[-1].body["id"] == total - 1
        pub.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return rows, f"{total:,} events in {elapsed:.1f} s ({total / elapsed:,.0f}/s); peak RSS {peak:.1f} MB"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument("--latency", type=int, default=1000)
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--reset-iterations", type=int, default=200)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="stackrig-bench-nats-"))
    try:
        ready, binary = bench_ready(args.runs, work)
        reset = bench_reset(work, args.reset_iterations)
        latency = bench_latency(work, args.latency)
        memory, memory_note = bench_memory(work, args.events)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{machine()}; {today()}; nats-server {binary}")
    print()
    print(f"time to ready, median of {args.runs} interleaved runs:")
    print(table(ready, ["stack", "stackrig up()", "service ready_ms", "direct start", "up / direct",
                        "ready_ms / direct", "target <= 1.3"]))
    print()
    print(f"per-test reset, median of {args.reset_iterations}:")
    print(table(reset, ["", "median", ""]))
    print()
    print(f"tap latency, {args.latency} events each (alternating):")
    print(table(latency, ["", "stackrig tap", "hand-written nats-py", "tap / hand", "target <= 1.5"]))
    print()
    print(f"memory of one tap (limit {DEFAULT_LIMIT:,}), RSS of this process:")
    print(table(memory, ["", "tap", "RSS"]))
    print(memory_note)


if __name__ == "__main__":
    main()
