"""Readiness of an MQTT broker: a real CONNECT answered by a CONNACK (no client library)."""

from __future__ import annotations

import os
import socket

from ...supervisor import ProbeTarget
from ._wire import CONNACK_TEXT, PROTOCOL_V311, connect_packet

__all__ = ["MqttProbe"]

# 0: accepted; 4 / 5: "bad user name or password" / "not authorized" — a broker that says so is
# up and speaking MQTT, which is all readiness means.
READY_CODES = (0, 4, 5)


class MqttProbe:
    """Ready when a TCP connection to the port answers an MQTT 3.1.1 CONNECT with a CONNACK.

    The packet is written by hand (a dozen bytes); an answer with return code 0, 4 or 5 passes.
    Any other answer fails this check and is kept in `last` for the timeout message."""

    def __init__(self, user: str | None = None, password: str | None = None) -> None:
        self.user = user
        self.password = password
        self.last = ""
        self._packet = connect_packet(f"stackrig-probe-{os.getpid()}-{os.urandom(3).hex()}", PROTOCOL_V311,
                                      user, password)

    def describe(self) -> str:
        found = f" (last answer: {self.last})" if self.last else ""
        return f"an MQTT CONNACK to a CONNECT{found}"

    def check(self, target: ProbeTarget) -> bool:
        if target.port is None:
            return False
        try:
            with socket.create_connection((target.host, target.port), timeout=0.5) as sock:
                sock.settimeout(1.0)
                sock.sendall(self._packet)
                head = b""
                while len(head) < 4:
                    chunk = sock.recv(4 - len(head))
                    if not chunk:
                        break
                    head += chunk
                if len(head) == 4 and head[0] == 0x20 and head[1] == 2:
                    try:
                        sock.sendall(b"\xe0\x00")  # DISCONNECT: the broker logs a clean close
                    except OSError:
                        pass
        except OSError:
            return False
        if len(head) < 4 or head[0] != 0x20 or head[1] != 2:
            self.last = f"not a CONNACK: {head.hex() or 'connection closed'}"
            return False
        code = head[3]
        if code in READY_CODES:
            return True
        self.last = f"CONNACK {CONNACK_TEXT.get(code, 'code')} ({code})"
        return False
