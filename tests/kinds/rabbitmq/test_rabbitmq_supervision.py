"""Nothing of a RabbitMQ run outlives it — beam.smp, epmd, erl_child_setup, inet_gethost — also after
SIGKILL of the runner (while running, and while building the cached node), and concurrent runs
never collide."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import alive, leftovers, tree_of, wait_until
from rabbitmq_support import needs_rabbitmq, text_of

from stackrig import Stack, load_stack
from stackrig.run import StackRunner

pytestmark = [needs_rabbitmq, pytest.mark.slow]

STACK = """
[services.bus]
kind = "rabbitmq"
exchanges = [{ name = "orders", type = "topic" }]
queues = [{ name = "billing" }]
bindings = [{ exchange = "orders", queue = "billing", routing_key = "order.*" }]
tap_exchange = "orders"
"""

SCRIPT = """
import sys, time, json
from stackrig import load_stack
from stackrig.run import StackRunner
r = StackRunner(load_stack(sys.argv[1]))
rec = r.up()
print(json.dumps({"run_id": r.run_id, "pids": [p for s in rec.services for p in s.pids], "data": rec.data_dir}),
      flush=True)
time.sleep(600)
"""


def names(pids: list[int]) -> set[str]:
    found = set()
    for pid in pids:
        try:
            found.add(Path(f"/proc/{pid}/comm").read_text().strip())
        except OSError:
            pass
    return found


def cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def with_env(key: str, value: str) -> list[int]:
    """Live processes whose environment has key=value."""
    marker = f"{key}={value}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if marker in Path(f"/proc/{entry}/environ").read_bytes().split(b"\0") and alive(int(entry)):
                    found.append(int(entry))
            except OSError:
                continue
    return found


def test_sigkill_of_the_runner_leaves_no_process(stackfile: Callable[[str], Path]) -> None:
    path = stackfile(text_of(STACK))
    runner = subprocess.Popen([sys.executable, "-c", SCRIPT, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert runner.stdout is not None
        info = json.loads(runner.stdout.readline())
        tree = tree_of(info["pids"])
        # the VM, its epmd, the VM's child-process helper and DNS helper (each in a session of its own)
        assert {"beam.smp", "epmd", "erl_child_setup", "inet_gethost"} <= names(tree)
    finally:
        runner.send_signal(signal.SIGKILL)  # also when an assert above failed: its watchdog cleans up
        runner.wait()
    assert wait_until(lambda: leftovers(info["run_id"], info["pids"], tree) == [], 30)
    assert wait_until(lambda: not Path(info["data"]).exists(), 10)  # the watchdog removed the run data


def test_sigkill_while_the_cached_node_is_built_leaves_no_process(stackfile: Callable[[str], Path],
                                                                  tmp_path: Path) -> None:
    path = stackfile(text_of(STACK))
    cache = tmp_path / "cache"
    env = {**os.environ, "STACKRIG_CACHE_DIR": str(cache)}
    runner = subprocess.Popen([sys.executable, "-c", SCRIPT, str(path)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        # the VM importing the definitions into a fresh Mnesia folder (after the helper's compile)
        assert wait_until(lambda: any(b"load_definitions" in cmdline(p)
                                      for p in with_env("STACKRIG_CACHE_DIR", str(cache))), 90)
        tree = tree_of(with_env("STACKRIG_CACHE_DIR", str(cache)))
    finally:
        runner.send_signal(signal.SIGKILL)
        runner.wait()
    assert wait_until(lambda: with_env("STACKRIG_CACHE_DIR", str(cache)) == [] and
                      not any(alive(p) for p in tree), 30)
    assert not list((cache / "rabbitmq").glob("node-*/mnesia"))  # nothing half-built was published
    from stackrig.kinds.rabbitmq._cache import scratch

    fresh = scratch("test")  # the next build removes what the killed one left on tmpfs
    fresh.rmdir()
    assert not list(fresh.parent.glob(f"stackrig-rmq-*-{runner.pid}-*"))


def test_teardown_leaves_no_process(stackfile: Callable[[str], Path]) -> None:
    runner = StackRunner(load_stack(stackfile(text_of(STACK))))
    record = runner.up()
    pids = [p for s in record.services for p in s.pids]
    tree = tree_of(pids)
    assert len(tree) >= 4
    runner.down()
    assert leftovers(runner.run_id, pids, tree) == []
    assert runner.ctx is not None and not Path(runner.ctx.data_dir).exists()


def test_four_concurrent_runs_never_collide(tmp_path: Path) -> None:
    """Four runs at once, building the cached node once between them (a fresh cache), each with its
    own epmd, ports and data; what is published on one is seen on no other."""
    cache = tmp_path / "cache"
    os.environ["STACKRIG_CACHE_DIR"] = str(cache)
    stacks: list[Stack] = []
    for i in range(4):
        folder = tmp_path / f"run{i}"
        folder.mkdir()
        (folder / "stackrig.toml").write_text(text_of(STACK))
        stacks.append(Stack.load(folder / "stackrig.toml"))
    rigs: dict[int, object] = {}
    errors: list[BaseException] = []

    def start(i: int) -> None:
        try:
            rigs[i] = stacks[i].up()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    try:
        threads = [threading.Thread(target=start, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        assert not errors, errors
        from stackrig.rig import Rig

        running = [rigs[i] for i in range(4)]
        assert all(isinstance(r, Rig) for r in running)
        ports = [p for r in running for p in r["bus"].ports]  # type: ignore[attr-defined]
        assert len(ports) == 16 and len(set(ports)) == 16
        assert len(list((cache / "rabbitmq").glob("node-*/mnesia"))) == 1  # built once
        taps = [r.events("bus", "order.*") for r in running]  # type: ignore[attr-defined]
        for i, r in enumerate(running):
            r.publish("bus", "order.created", {"run": i})  # type: ignore[attr-defined]
        for i, tap in enumerate(taps):
            assert tap.wait_for("order.created").body == {"run": i}
            tap.expect_none(match=lambda e, i=i: e.body != {"run": i}, during=0.3)
        for r in running:
            assert len(r.queue("bus", "billing")) == 1  # type: ignore[attr-defined]
        pids = [p for r in running for p in r["bus"].info.pids]  # type: ignore[attr-defined]
        tree = tree_of(pids)
    finally:
        os.environ.pop("STACKRIG_CACHE_DIR", None)
        for s in stacks:
            s.down()
    assert not any(alive(p) for p in tree)
