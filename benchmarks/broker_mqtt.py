"""`kind = "mqtt"`: stackrig vs the same broker run by hand, side by side in one run.

    python benchmarks/broker_mqtt.py [--runs 9] [--events 1000] [--memory-events 1000000]
                                     [--memory-seconds 240] [--brokers mosquitto,amqtt]

(1) time to ready: `StackRunner.up()` of a stack with one mqtt service, until its CONNECT is
    answered, vs a direct start of the same binary with the same generated config file and the
    same readiness check (a hand-written CONNECT until a CONNACK, polled every 2-5 ms like
    stackrig's wait loop); interleaved runs, medians.  Target: stackrig <= 1.3 x direct.
(2) tap latency over N events (one in flight at a time, QoS 0): publish -> the event in the
    test's hands, for `rig.events()` vs a hand-written paho-mqtt subscriber on the same broker,
    alternating message by message.  "received": the network thread's timestamp (Event.timestamp /
    time.time() in on_message); "in the test": when `tap.wait_for()` / `threading.Event.wait()`
    returned in the main thread.  Target: p50 and p99 <= 1.5 x the hand-written subscriber.
(3) a tap's memory over many events: another process floods QoS 0 messages (mosquitto with
    `max_queued_messages = 0`, so the broker drops none); the tap keeps its newest 10 000; the
    test process's RSS is sampled as the events arrive.  Target: flat (the growth after the tap
    filled is noise, not per-event).
(4) the per-test reset: after a test that left nothing (target: about a millisecond), and after
    one that left a retained message.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, median, table, today  # noqa: E402

from stackrig import Stack, load_stack  # noqa: E402
from stackrig.run import StackRunner  # noqa: E402
from stackrig.services import registry  # noqa: E402
from stackrig.supervisor import allocate_port  # noqa: E402

if "mqtt" not in registry():  # an editable install made before pyproject.toml registered the kind
    from stackrig.kinds.mqtt import KIND

    registry().add(KIND)

CONNECT = bytes([0x10, 12, 0, 4]) + b"MQTT" + bytes([4, 2, 0, 0, 0, 0])


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def ratio_line(what: str, mine: float, peer: float, target: float) -> tuple[str, str, str, str, str]:
    r = mine / peer if peer else float("inf")
    return (what, f"{mine:.2f}", f"{peer:.2f}", f"{r:.2f}", f"<= {target} {'met' if r <= target else 'NOT met'}")


# -- (1) time to ready --------------------------------------------------------------------------
def stack_file(folder: Path, broker: str, extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "stackrig.toml"
    path.write_text(f'[services.devices]\nkind = "mqtt"\nbroker = "{broker}"\n{extra}')
    return path


def generated_config(path: Path) -> tuple[str, Path, str]:
    """Run stackrig once: the binary, and the config file it generated (port as a placeholder)."""
    runner = StackRunner(load_stack(path))
    record = runner.up()
    try:
        service = runner.services["devices"]
        binary = service.binary
        assert binary is not None and service.port is not None
        config = service.config_file  # type: ignore[attr-defined]
        text = Path(config).read_text().replace(str(service.port), "@PORT@")
        return service.broker, binary.exe, text  # type: ignore[attr-defined]
    finally:
        runner.down()
        del record


def ready_by_handshake(port: int, proc: subprocess.Popen[bytes]) -> None:
    delay = 0.002
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.settimeout(1.0)
                s.sendall(CONNECT)
                head = s.recv(4)
                if len(head) == 4 and head[0] == 0x20:
                    s.sendall(b"\xe0\x00")
                    return
        except OSError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"the direct broker exited with {proc.returncode}")
        time.sleep(delay)
        delay = min(delay * 1.5, 0.005)


def direct_start(exe: Path, config_text: str, folder: Path) -> float:
    lease = allocate_port()
    port = lease.port
    lease.release()
    name = "mosquitto.conf" if exe.name == "mosquitto" else "amqtt.yaml"
    config = folder / name
    config.write_text(config_text.replace("@PORT@", str(port)))
    with open(folder / "direct.log", "ab") as log:
        t0 = time.perf_counter()
        proc = subprocess.Popen([str(exe), "-c", str(config)], stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=folder, start_new_session=True)
        try:
            ready_by_handshake(port, proc)
            return (time.perf_counter() - t0) * 1000
        finally:
            proc.kill()
            proc.wait()


def stackrig_start(path: Path) -> tuple[float, float]:
    stack = load_stack(path)
    runner = StackRunner(stack)
    t0 = time.perf_counter()
    record = runner.up()
    elapsed = (time.perf_counter() - t0) * 1000
    ready = record.services[0].ready_ms or 0.0
    runner.down()
    return elapsed, ready


def bench_start(broker: str, runs: int, work: Path) -> list[tuple[str, ...]]:
    path = stack_file(work / f"start-{broker}", broker)
    _, exe, config_text = generated_config(path)
    direct_dir = work / f"direct-{broker}"
    direct_dir.mkdir(parents=True, exist_ok=True)
    mine: list[float] = []
    launch: list[float] = []
    peer: list[float] = []
    stackrig_start(path)  # warm caches (versions, imports) for both sides alike
    direct_start(exe, config_text, direct_dir)
    for _ in range(runs):
        up, ready = stackrig_start(path)
        mine.append(up)
        launch.append(ready)
        peer.append(direct_start(exe, config_text, direct_dir))
    rows = [
        (f"{broker}: stackrig up() until ready", f"{median(mine):.1f} ms", f"min {min(mine):.1f}"),
        (f"{broker}: stackrig, the service alone (prepare + launch + ready)", f"{median(launch):.1f} ms",
         f"min {min(launch):.1f}"),
        (f"{broker}: direct start of {exe} -c <same config>", f"{median(peer):.1f} ms", f"min {min(peer):.1f}"),
    ]
    return [*rows, ratio_line(f"{broker}: ready, stackrig / direct (medians)", median(mine), median(peer), 1.3)]


# -- (2) tap latency ------------------------------------------------------------------------------
def paho(url: str, v5: bool, client_id: str) -> Any:
    from urllib.parse import urlsplit

    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    parts = urlsplit(url)
    if v5:
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    else:
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311)
    connected = threading.Event()
    c.on_connect = lambda *a: connected.set()
    c.connect(parts.hostname, parts.port, keepalive=60)
    c.loop_start()
    assert connected.wait(10)
    return c


def bench_latency(broker: str, events: int, work: Path) -> tuple[list[tuple[str, ...]], dict[str, list[float]]]:
    path = stack_file(work / f"latency-{broker}", broker)
    v5 = broker == "mosquitto"
    stack = Stack.load(path)
    rig = stack.up()
    lat: dict[str, list[float]] = {"tap received": [], "tap in the test": [], "paho received": [],
                                   "paho in the test": []}
    try:
        url = rig["devices"].direct_url
        pub = paho(url, v5, "bench-pub")
        hand = paho(url, v5, "bench-hand")
        got = threading.Event()
        seen: dict[str, float] = {}

        def on_message(client: Any, userdata: Any, msg: Any) -> None:
            seen["t"] = time.time()
            got.set()

        hand.on_message = on_message
        subscribed = threading.Event()
        hand.on_subscribe = lambda *a: subscribed.set()
        hand.subscribe("hand/#", 0)
        assert subscribed.wait(10)
        tap = rig.events("devices", "tap/#")
        for i in range(events):  # one tap event, then one of the hand-written subscriber: same conditions
            sent = time.time()
            pub.publish(f"tap/{i}", json.dumps({"i": i}), qos=0)
            ev = tap.wait_for(f"tap/{i}", timeout=10)
            now = time.time()
            lat["tap received"].append((ev.timestamp - sent) * 1000)
            lat["tap in the test"].append((now - sent) * 1000)
            if i % 100 == 99:
                tap.clear()
            got.clear()
            sent = time.time()
            pub.publish(f"hand/{i}", json.dumps({"i": i}), qos=0)
            assert got.wait(10)
            now = time.time()
            lat["paho received"].append((seen["t"] - sent) * 1000)
            lat["paho in the test"].append((now - sent) * 1000)
        for c in (pub, hand):
            c.disconnect()
            c.loop_stop()
    finally:
        stack.down()
    rows: list[tuple[str, ...]] = []
    for which in ("received", "in the test"):
        mine, peer = lat[f"tap {which}"], lat[f"paho {which}"]
        for p in (50, 99):
            rows.append(ratio_line(f"{broker}: p{p} {which} (ms), tap / paho", pct(mine, p), pct(peer, p), 1.5))
    return rows, lat


# -- (3) memory ---------------------------------------------------------------------------------------
FLOOD = """
import sys, time, paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-flood", protocol=mqtt.MQTTv311)
c.connect(host, port, keepalive=600)
c.loop_start()
payload = b'{"sensor":"t-1","value":21.5,"unit":"C","seq":0000000}'
for i in range(n):
    while len(c._out_packet) > 5000:  # paho buffers without bound: keep its queue short
        time.sleep(0.001)
    c.publish("mem/t-1", payload, qos=0)
while c._out_packet:
    time.sleep(0.01)
c.disconnect(); c.loop_stop()
"""


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def bench_memory(broker: str, events: int, seconds: float, work: Path) -> list[tuple[str, ...]]:
    extra = "config = { max_queued_messages = 0 }\n" if broker == "mosquitto" else ""
    path = stack_file(work / f"memory-{broker}", broker, extra)
    stack = Stack.load(path)
    rig = stack.up()
    rows: list[tuple[str, ...]] = []
    try:
        tap = rig.events("devices", "mem/#")  # default limit: the newest 10 000
        flood = subprocess.Popen([sys.executable, "-c", FLOOD, "127.0.0.1", str(rig["devices"].port), str(events)])
        t0 = time.monotonic()
        marks = [10_000, 50_000] + list(range(100_000, events + 1, 100_000))
        marks = [m for m in marks if m <= events]
        samples: list[tuple[int, float, float]] = []
        last_total = -1
        idle_since = time.monotonic()
        while marks and time.monotonic() - t0 < seconds:
            total = tap.dropped + len(tap.events)
            if total >= marks[0]:
                samples.append((marks.pop(0), rss_mb(), time.monotonic() - t0))
            if total != last_total:
                last_total, idle_since = total, time.monotonic()
            elif time.monotonic() - idle_since > 10 and flood.poll() is not None:
                break  # the flood is over and nothing arrives any more
            time.sleep(0.05)
        total = tap.dropped + len(tap.events)
        flood.kill()
        flood.wait()
        elapsed = time.monotonic() - t0
        for n, mb, at in samples:
            rows.append((f"{broker}: after {n:,} events", f"{mb:.1f} MB", f"+{at:.1f} s"))
        if len(samples) >= 2:
            growth = samples[-1][1] - samples[0][1]
            rows.append((f"{broker}: RSS growth from {samples[0][0]:,} to {samples[-1][0]:,} events",
                         f"{growth:+.1f} MB", "flat" if abs(growth) < 5 else "NOT flat"))
        rows.append((f"{broker}: events captured in {elapsed:.0f} s", f"{total:,}",
                     f"{total / elapsed:,.0f} events/s; tap holds {len(tap.events):,}"))
    finally:
        stack.down()
    return rows


# -- (4) the per-test reset --------------------------------------------------------------------------
def bench_reset(broker: str, runs: int, work: Path) -> list[tuple[str, ...]]:
    from stackrig.kinds.mqtt import RetainedReset
    from stackrig.kinds.mqtt._events import target_of

    stack = Stack.load(stack_file(work / f"reset-{broker}", broker))
    rig = stack.up()
    try:
        reset = RetainedReset(target_of(rig["devices"]), keep=[], timeout=5)
        clean: list[float] = []
        dirty: list[float] = []
        for i in range(runs):
            t0 = time.perf_counter()
            reset.after("clean")
            clean.append((time.perf_counter() - t0) * 1000)
            rig.publish("devices", f"state/{i}", {"i": i}, retain=True)
            t0 = time.perf_counter()
            reset.after("dirty")
            dirty.append((time.perf_counter() - t0) * 1000)
        reset.close()
    finally:
        stack.down()
    return [(f"{broker}: reset after a test that left nothing", f"{median(clean):.3f} ms",
             f"p99 {pct(clean, 99):.3f} ms"),
            (f"{broker}: reset after a test that left 1 retained message", f"{median(dirty):.3f} ms",
             f"p99 {pct(dirty, 99):.3f} ms")]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--memory-events", type=int, default=1_000_000)
    parser.add_argument("--memory-seconds", type=float, default=240)
    parser.add_argument("--brokers", default="mosquitto,amqtt")
    args = parser.parse_args()
    brokers = [b.strip() for b in args.brokers.split(",") if b.strip()]
    work = Path(tempfile.mkdtemp(prefix="stackrig-bench-mqtt-"))
    load = os.getloadavg()[0]
    print(f"# broker_mqtt.py, {today()}: {machine()}; load average at start {load:.2f}\n")
    start_rows: list[tuple[str, ...]] = []
    for broker in brokers:
        start_rows += bench_start(broker, args.runs, work)
    print(f"## (1) time to ready, medians of {args.runs} interleaved runs\n")
    print(table([r for r in start_rows if len(r) == 3], ["measure", "median", ""]))
    print()
    print(table([r for r in start_rows if len(r) == 5], ["ratio", "stackrig", "direct", "ratio", "target"]))
    print(f"\n## (2) tap latency, {args.events} events each, one in flight\n")
    lat_rows: list[tuple[str, ...]] = []
    for broker in brokers:
        rows, _ = bench_latency(broker, args.events, work)
        lat_rows += rows
    print(table(lat_rows, ["measure", "tap", "paho", "ratio", "target"]))
    print("\n## (3) a tap's memory (test process RSS)\n")
    mem_rows: list[tuple[str, ...]] = []
    for broker in brokers:
        n = args.memory_events if broker == "mosquitto" else min(args.memory_events, 200_000)
        mem_rows += bench_memory(broker, n, args.memory_seconds, work)
    print(table(mem_rows, ["measure", "value", ""]))
    print("\n## (4) the per-test reset, medians of 200\n")
    reset_rows: list[tuple[str, ...]] = []
    for broker in brokers:
        reset_rows += bench_reset(broker, 200, work)
    print(table(reset_rows, ["measure", "median", ""]))
    print(f"\nload average at the end {os.getloadavg()[0]:.2f}")
    import shutil

    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
