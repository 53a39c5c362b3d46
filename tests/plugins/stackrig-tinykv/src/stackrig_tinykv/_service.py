"""How a tinykv service becomes a process: find `tinykv-server`, start it, wait for PONG."""

from __future__ import annotations

import socket
import sysconfig
from typing import TYPE_CHECKING, ClassVar

from stackrig.services import BinarySpec, Service

from ._spec import TinyKvSpec

if TYPE_CHECKING:
    from stackrig.supervisor import ProbeTarget

__all__ = ["NAMESPACE", "TINYKV", "PingProbe", "TinyKvService"]

TINYKV = BinarySpec(
    name="tinykv",
    executables=("tinykv-server",),
    # after PATH: the scripts folder of the Python running stackrig, where pip put the console
    # script, so `.venv/bin/pytest` finds it without the venv being activated
    system_dirs=(sysconfig.get_path("scripts"),),
    install={"pip": "stackrig-tinykv"},
)

NAMESPACE = "default"  # the namespace tests use, unless they are a pytest-xdist worker (see kv_slice)


class PingProbe:
    """Ready when the server answers PING with PONG: an accepted connection alone proves less."""

    def describe(self) -> str:
        return "PONG in reply to PING"

    def check(self, target: ProbeTarget) -> bool:
        if target.port is None:
            return False
        try:
            with socket.create_connection((target.host, target.port), timeout=0.5) as sock:
                sock.sendall(b"PING\n")
                return sock.makefile("rb").readline() == b"PONG\n"
        except OSError:
            return False


class TinyKvService(Service):
    binary_spec: ClassVar[BinarySpec | None] = TINYKV
    spec: TinyKvSpec

    def url_for(self, port: int | None) -> str:
        return f"tinykv://{self.host}:{port}/{NAMESPACE}" if port else ""

    def attributes(self, port: int | None = None) -> dict[str, str]:
        return {**super().attributes(port), "namespace": NAMESPACE}

    def default_probe(self) -> PingProbe:
        return PingProbe()

    def prepare(self, deadline: float) -> None:
        self.find_binary()  # honours the stack file's `version` and `path`

    def launch(self) -> None:
        assert self.binary is not None and self.port is not None
        argv = [str(self.binary.exe), "--port", str(self.port), "--bind", self.host,
                "--max-keys", str(self.spec.max_keys)]
        self.spawn(argv, self.base_env(), self.ctx.stack_root, self.port)
