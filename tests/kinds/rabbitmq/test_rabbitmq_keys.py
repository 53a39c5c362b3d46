"""Every stack-file key on one running node: `path`, `version`, `definitions`, `vhost`, `user`,
`password`, `management`, `plugins`, `advanced_config`, a plugin's exchange type, and no listener on
a port stackrig did not allocate."""

from __future__ import annotations

import base64
import json
import re
import socket
import struct
import subprocess
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rabbitmq_support import needs_rabbitmq

from stackrig.kinds.rabbitmq._install import find_install
from stackrig.rig import Rig

pytestmark = [needs_rabbitmq, pytest.mark.slow]

DEFINITIONS = {
    "users": [{"name": "app", "password": "app-pw", "tags": ""}],
    "vhosts": [{"name": "app/v1"}],
    "permissions": [{"user": "app", "vhost": "app/v1", "configure": ".*", "write": ".*", "read": ".*"}],
    "policies": [{"vhost": "app/v1", "name": "cap", "pattern": "^billing$", "apply-to": "queues",
                  "definition": {"max-length": 5}, "priority": 1}],
    "exchanges": [{"name": "orders", "vhost": "app/v1", "type": "topic", "durable": True, "auto_delete": False,
                   "internal": False, "arguments": {}}],
    "queues": [{"name": "billing", "vhost": "app/v1", "durable": True, "auto_delete": False, "arguments": {}}],
    "bindings": [{"source": "orders", "vhost": "app/v1", "destination": "billing", "destination_type": "queue",
                  "routing_key": "order.*", "arguments": {}}],
}


def api(rig: Rig, path: str) -> Any:
    bus = rig["bus"]
    auth = base64.b64encode(f"{bus.user}:{bus.password}".encode()).decode()
    req = urllib.request.Request(bus.management_url + path, headers={"Authorization": f"Basic {auth}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def tune(port: int, user: str, password: str) -> tuple[int, int, int]:
    """The (channel_max, frame_max, heartbeat) the node proposes in connection.tune."""
    def frame(sock: socket.socket) -> bytes:
        head = b""
        while len(head) < 7:
            head += sock.recv(7 - len(head))
        size = struct.unpack(">I", head[3:7])[0]
        body = b""
        while len(body) < size + 1:
            body += sock.recv(size + 1 - len(body))
        return body[:-1]

    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"AMQP\x00\x00\x09\x01")
        frame(sock)  # connection.start
        response = f"\0{user}\0{password}".encode()
        args = (struct.pack(">I", 0) + bytes([5]) + b"PLAIN" + struct.pack(">I", len(response)) + response
                + bytes([5]) + b"en_US")
        payload = struct.pack(">HH", 10, 11) + args
        sock.sendall(struct.pack(">BHI", 1, 0, len(payload)) + payload + b"\xce")
        tune_args = frame(sock)[4:]
        return struct.unpack(">HIH", tune_args[:8])


def listening_ports(pid: int) -> set[int]:
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True).stdout
    return {int(m.group(1)) for line in out.splitlines() if f"pid={pid}," in line
            for m in [re.search(r":(\d+)\s", line)] if m}


def test_every_key_on_one_node(up: Callable[[str], Rig], tmp_path: Path) -> None:
    home = find_install(service="bus", version=None, path=None, root=tmp_path).home
    folder = tmp_path / "s0"
    folder.mkdir()
    (folder / "defs.json").write_text(json.dumps(DEFINITIONS))
    (folder / "advanced.config").write_text("[{rabbit, [{channel_max, 7}]}].\n")
    rig = up(f"""
        [services.bus]
        kind = "rabbitmq"
        path = "{home}"
        version = "3"
        definitions = "defs.json"
        vhost = "app/v1"
        user = "svc"
        password = "p@ss:word/1"
        management = true
        plugins = ["rabbitmq_consistent_hash_exchange"]
        advanced_config = "advanced.config"
        exchanges = [{{ name = "hash", type = "x-consistent-hash" }}]
        queues = [{{ name = "h1" }}, {{ name = "q.ttl", arguments = {{ "x-message-ttl" = 60000 }} }}]
        bindings = [{{ exchange = "hash", queue = "h1", routing_key = "10" }}]
        tap_exchange = "orders"
    """)
    bus = rig["bus"]
    assert bus.url == f"amqp://svc:p%40ss%3Aword%2F1@127.0.0.1:{bus.port}/app%2Fv1"
    assert (bus.vhost, bus.user, bus.tap_exchange) == ("app/v1", "svc", "orders")
    assert bus.info.source.startswith("stack file 3.") and str(home) in bus.info.source

    # the definitions' and the stack file's objects, the user and the policy
    tap = rig.events("bus", "order.*")
    for n in range(7):
        rig.publish("bus", "order.created", {"n": n})
    assert tap.wait_for(match={"n": 6})
    assert len(rig.queue("bus", "billing")) == 5  # the file's policy (max-length 5) applies
    assert {u["name"] for u in api(rig, "/api/users")} == {"app", "svc"}  # no guest: definitions were given
    assert [p["name"] for p in api(rig, "/api/policies/app%2Fv1")] == ["cap"]
    queues = {q["name"]: q for q in api(rig, "/api/queues/app%2Fv1")}
    assert queues["q.ttl"]["arguments"] == {"x-message-ttl": 60000}

    # a plugin's exchange type: tapped through the firehose
    hashed = rig.events("bus", "10", exchange="hash")
    rig.publish("bus", "10", {"hashed": True}, exchange="hash")
    assert hashed.wait_for("10").body == {"hashed": True}
    assert len(rig.queue("bus", "h1")) == 1

    assert tune(bus.port or 0, "svc", "p@ss:word/1")[0] == 7  # advanced.config's channel_max
    types = {x["name"] for x in api(rig, "/api/exchanges/app%2Fv1")}
    assert "hash" in types

    # every listener is on a port stackrig allocated: AMQP, distribution, control, management
    attrs = bus.attributes
    allocated = {int(attrs[k]) for k in ("amqp_port", "dist_port", "control_port", "management_port")}
    assert listening_ports(bus.pid or 0) == allocated
    assert not {5672, 15672, 15692, 25672, 4369} & allocated
