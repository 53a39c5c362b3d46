"""`kind = "mqtt"` as processes: readiness by handshake, logs, auth, teardown, SIGKILL, concurrency."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from helpers import alive, leftovers, marked_pids, run_cli, tree_of, wait_until
from mqtt_support import BROKERS, needs_mosquitto, retained_now, write_stack

from stackrig import Stack, load_stack
from stackrig.kinds.mqtt._probe import MqttProbe
from stackrig.kinds.mqtt._wire import MqttRefused, WireClient
from stackrig.run import StackRunner
from stackrig.supervisor import ProbeTarget


# -- the probe -------------------------------------------------------------------------------
class FakeBroker:
    """A TCP server answering each connection with fixed bytes (None: read, then close)."""

    def __init__(self, answer: bytes | None) -> None:
        self.answer = answer
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.got: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                self.got.append(conn.recv(1024))
                if self.answer is not None:
                    conn.sendall(self.answer)

    def close(self) -> None:
        self.sock.close()


@pytest.mark.parametrize(("answer", "ready", "last"), [
    (b"\x20\x02\x00\x00", True, ""),
    (b"\x20\x02\x00\x05", True, ""),  # "not authorized": it answers MQTT, so it is up
    (b"\x20\x02\x00\x04", True, ""),
    (b"\x20\x02\x00\x03", False, "CONNACK server unavailable (3)"),
    (b"HTTP/1.1 400 Bad Request\r\n\r\n", False, "not a CONNACK: 48545450"),
    (None, False, "not a CONNACK: connection closed"),
])
def test_probe_is_a_real_connect_handshake(answer: bytes | None, ready: bool, last: str) -> None:
    fake = FakeBroker(answer)
    try:
        probe = MqttProbe("dev", "pw")
        assert probe.check(ProbeTarget("127.0.0.1", fake.port, Path("/dev/null"))) is ready
        assert probe.last == last
        sent = fake.got[0]
        assert sent[0] == 0x10 and b"MQTT\x04" in sent and b"dev" in sent and b"pw" in sent  # CONNECT, 3.1.1
        if last:
            assert probe.describe() == f"an MQTT CONNACK to a CONNECT (last answer: {last})"
    finally:
        fake.close()


def test_probe_of_a_closed_port() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert MqttProbe().check(ProbeTarget("127.0.0.1", port, Path("/dev/null"))) is False


# -- running -----------------------------------------------------------------------------------
@pytest.mark.parametrize("broker", BROKERS)
def test_starts_on_its_port_logs_and_stops(tmp_path: Path, broker: str) -> None:
    path = write_stack(tmp_path, f"""
        [services.devices]
        kind = "mqtt"
        broker = "{broker}"
        export = {{ MQTT_URL = "${{url}}" }}
    """)
    stack = Stack.load(path)
    with stack as rig:
        svc = rig["devices"]
        assert svc.url == f"mqtt://127.0.0.1:{svc.port}" == rig.env["MQTT_URL"]
        assert svc.broker == broker and svc.protocol == ("5" if broker == "mosquitto" else "3.1.1")
        with WireClient("127.0.0.1", svc.port, client_id="hello-from-test") as client:
            assert client.ping() < 1
        info = stack.record
        assert info is not None
        pids = [p for s in info.services for p in s.pids]
        run_id = stack.run_id
        assert wait_until(lambda: "hello-from-test" in svc.logs(200) or broker == "amqtt")
        assert svc.logs(200)  # the broker logs into the service's log as it runs
    assert run_id is not None
    assert leftovers(run_id, pids) == []


@pytest.mark.parametrize("broker", BROKERS)
@pytest.mark.parametrize("passwd_tool", [True, False], ids=["mosquitto_passwd", "generated"])
def test_user_and_password(tmp_path: Path, broker: str, passwd_tool: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if broker == "amqtt" and not passwd_tool:
        pytest.skip("amqtt has no password tool: its file is always generated (argon2)")
    if not passwd_tool:
        from stackrig.kinds.mqtt._service import MqttService

        monkeypatch.setattr(MqttService, "_mosquitto_passwd", lambda self: None)
    path = write_stack(tmp_path, f"""
        [services.devices]
        kind = "mqtt"
        broker = "{broker}"
        user = "dev ice"
        password = "p@ss:w/rd"
    """)
    stack = Stack.load(path)
    with stack as rig:
        svc = rig["devices"]
        assert svc.url == f"mqtt://dev%20ice:p%40ss%3Aw%2Frd@127.0.0.1:{svc.port}"
        assert (svc.user, svc.password) == ("dev ice", "p@ss:w/rd")
        with WireClient("127.0.0.1", svc.port, user="dev ice", password="p@ss:w/rd"):
            pass
        for user, password in ((None, None), ("dev ice", "wrong"), ("other", "p@ss:w/rd")):
            with pytest.raises(MqttRefused) as info:
                WireClient("127.0.0.1", svc.port, user=user, password=password).connect()
            assert info.value.code in (4, 5), (user, password)
        assert "not authorized" in str(MqttRefused(5)) and "bad user name or password" in str(MqttRefused(4))
        # the taps and rig.publish use the credentials of the URL
        tap = rig.events("devices", "t/#")
        rig.publish("devices", "t/1", {"ok": True})
        assert tap.wait_for("t/1").body == {"ok": True}
        rig.close_taps()
        folder = Path(stack.record.data_dir) / "devices"  # type: ignore[union-attr]
        line = (folder / "passwords").read_text()
        assert line.startswith("dev ice:$7$101$" if broker == "mosquitto" else "dev ice:$argon2id$")
        assert (folder / "passwords").stat().st_mode & 0o777 == 0o600
        if broker == "mosquitto":
            log = Path(stack.record.logs_dir) / "devices.passwd.log"  # type: ignore[union-attr]
            assert log.exists() is passwd_tool


@pytest.mark.parametrize("broker", BROKERS)
def test_anonymous_alongside_a_user(tmp_path: Path, broker: str) -> None:
    path = write_stack(tmp_path, f"""
        [services.devices]
        kind = "mqtt"
        broker = "{broker}"
        user = "dev"
        password = "pw"
        anonymous = true
    """)
    with Stack.load(path) as rig:
        port = rig["devices"].port
        with WireClient("127.0.0.1", port):
            pass
        with pytest.raises(MqttRefused):
            WireClient("127.0.0.1", port, user="dev", password="nope").connect()
@needs_mosquitto
def test_extra_config_reaches_the_broker(tmp_path: Path) -> None:
    path = write_stack(tmp_path, """
        [services.devices]
        kind = "mqtt"
        broker = "mosquitto"
        config = { max_keepalive = 120, max_packet_size = 2048 }
    """)
    stack = Stack.load(path)
    with stack as rig:
        conf = (Path(stack.record.data_dir) / "devices" / "mosquitto.conf").read_text()  # type: ignore[union-attr]
        assert "max_packet_size 2048\n" in conf and "persistence false\n" in conf
        assert f"listener {rig['devices'].port} 127.0.0.1\n" in conf
        with pytest.raises(Exception, match="rig.publish"):  # the broker drops a packet over 2 KiB
            rig.publish("devices", "big", "x" * 4096, timeout=2)


def test_amqtt_config_is_its_yaml(tmp_path: Path) -> None:
    path = write_stack(tmp_path, """
        [services.devices]
        kind = "mqtt"
        broker = "amqtt"
        config = { timeout_disconnect_delay = 2 }
    """)
    stack = Stack.load(path)
    with stack as rig:
        data = json.loads((Path(stack.record.data_dir) / "devices" / "amqtt.yaml").read_text())  # type: ignore[union-attr]
        assert data["listeners"]["default"] == {"type": "tcp", "bind": f"127.0.0.1:{rig['devices'].port}"}
        assert data["timeout_disconnect_delay"] == 2
        assert list(data["plugins"]) == ["amqtt.plugins.authentication.AnonymousAuthPlugin"]
@needs_mosquitto
def test_a_broken_broker_config_fails_the_start_with_its_log(tmp_path: Path) -> None:
    from stackrig import ServiceExited

    path = write_stack(tmp_path, """
        [services.devices]
        kind = "mqtt"
        broker = "mosquitto"
        config = { no_such_option = 1 }
    """)
    runner = StackRunner(load_stack(path))
    with pytest.raises(ServiceExited) as info:
        runner.up()
    assert "service 'devices' exited with code" in str(info.value)
    assert "no_such_option" in str(info.value)  # mosquitto's own complaint, from the log tail
    assert marked_pids(runner.run_id) == []


@pytest.mark.parametrize("broker", BROKERS)
def test_a_broker_someone_else_runs(tmp_path: Path, broker: str) -> None:
    """`Stack.up(external=...)`: no broker or protocol attribute; the kind finds the protocol out."""
    theirs = Stack.load(write_stack(tmp_path / "theirs", f'[services.devices]\nkind = "mqtt"\nbroker = "{broker}"\n'))
    with theirs as their_rig:
        url = their_rig["devices"].url
        mine = Stack.load(write_stack(tmp_path / "mine", '[services.devices]\nkind = "mqtt"\n'))
        rig = mine.up(external={"devices": url})
        try:
            from stackrig.kinds.mqtt._events import target_of

            target = target_of(rig["devices"])
            assert target.protocol == (5 if broker == "mosquitto" else 4)
            assert target.sticky_filters is (broker == "amqtt")
            from stackrig.rig import Resets

            resets = Resets(mine.file, rig)  # the baseline: nothing retained
            tap = rig.events("devices", "ext/#")
            rig.publish("devices", "ext/1", {"ok": 1}, retain=True)
            assert tap.wait_for("ext/1").body == {"ok": 1}
            rig.close_taps()
            resets.after("t")
            assert retained_now(url, broker == "mosquitto") == {}
            resets.close()
        finally:
            mine.down()


# -- nothing left behind ------------------------------------------------------------------------
SCRIPT = """
import sys, json, time
from stackrig import load_stack
from stackrig.run import StackRunner
r = StackRunner(load_stack(sys.argv[1]))
rec = r.up()
print(json.dumps({"run_id": r.run_id, "pids": [p for s in rec.services for p in s.pids], "data": rec.data_dir}),
      flush=True)
time.sleep(600)
"""


@needs_mosquitto
@pytest.mark.slow
def test_sigkill_of_the_runner_leaves_no_broker(tmp_path: Path) -> None:
    path = write_stack(tmp_path, """
        [services.mosq]
        kind = "mqtt"
        broker = "mosquitto"
        user = "dev"
        password = "pw"
        [services.py]
        kind = "mqtt"
        broker = "amqtt"
        user = "dev"
        password = "pw"
    """)
    runner = subprocess.Popen([sys.executable, "-c", SCRIPT, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert runner.stdout is not None
        info = json.loads(runner.stdout.readline())
        assert len(info["pids"]) == 2 and all(alive(p) for p in info["pids"])
        tree = tree_of(info["pids"])
    finally:
        runner.send_signal(signal.SIGKILL)
        runner.wait()
    assert wait_until(lambda: leftovers(info["run_id"], info["pids"], tree) == [], 30)
    assert wait_until(lambda: not Path(info["data"]).exists(), 10)


CONCURRENT = """
import json, sys, time
from stackrig import Stack
stack = Stack.load(sys.argv[1])
me = sys.argv[2]
with stack as rig:
    out = {}
    for name in ("mosq", "py"):
        rig.publish(name, "who", me, retain=True)
    time.sleep(0.5)  # the other runs publish meanwhile
    for name in ("mosq", "py"):
        tap = rig.events(name, "who", retained=True)
        out[name] = [rig[name].port, tap.wait_for("who").text]
        rig.close_taps()
    print(json.dumps(out), flush=True)
"""


@needs_mosquitto
@pytest.mark.slow
def test_four_concurrent_runs_never_collide(tmp_path: Path) -> None:
    procs = []
    for i in range(4):
        path = write_stack(tmp_path / f"run{i}", """
            [services.mosq]
            kind = "mqtt"
            broker = "mosquitto"
            [services.py]
            kind = "mqtt"
            broker = "amqtt"
        """)
        procs.append(subprocess.Popen([sys.executable, "-c", CONCURRENT, str(path), f"run{i}"],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        results.append(json.loads(out))
    ports = [r[name][0] for r in results for name in ("mosq", "py")]
    assert len(set(ports)) == 8
    for i, r in enumerate(results):
        assert r["mosq"][1] == r["py"][1] == f"run{i}"  # each run saw only its own broker's message


# -- attached to `stackrig up -d` ---------------------------------------------------------------
ATTACHED_TESTS = """
import subprocess, sys

def test_tap_and_publish_on_an_attached_stack(rig):
    v5 = rig["devices"].protocol == "5"
    tap = rig.events("devices", "sensors/+")
    rig.publish("devices", "sensors/a", {"v": 1}, {"origin": "test"} if v5 else None)
    ev = tap.wait_for("sensors/a", match={"v": 1})
    if v5:
        assert ev.headers["origin"] == "test"
    rig.publish("devices", "state", "left behind", retain=True)

def test_the_reset_ran_between(rig):
    tap = rig.events("devices", "#", retained=True)
    tap.expect_none("state", during=0.3)
"""


@pytest.mark.slow
@pytest.mark.parametrize("broker", BROKERS)
def test_taps_work_on_a_stack_another_process_runs(pytester: pytest.Pytester, broker: str) -> None:
    pytester.makefile(".toml", stackrig=f'[services.devices]\nkind = "mqtt"\nbroker = "{broker}"\n'
                                        'user = "u"\npassword = "p"\n')
    pytester.makepyfile(ATTACHED_TESTS)
    up = run_cli("up", "-d", cwd=pytester.path)
    assert up.returncode == 0, up.stderr
    try:
        result = pytester.runpytest_subprocess("-p", "no:randomly")
        result.stdout.fnmatch_lines(["stackrig: stack * attached to stackrig up (pid *) in * ms"])
        result.assert_outcomes(passed=2)
    finally:
        down = run_cli("down", cwd=pytester.path)
        assert down.returncode == 0, down.stderr
