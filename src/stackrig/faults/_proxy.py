"""One named proxy: its listener, its live connections and its toxics."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ._errors import ApiProblem
from ._link import Connection
from ._model import ProxySpec, ToxicSpec, parse_address

__all__ = ["Proxy"]

log = logging.getLogger("stackrig.faults")


class Proxy:
    def __init__(self, spec: ProxySpec) -> None:
        self.name = spec.name
        self.listen = spec.listen
        self.upstream = spec.upstream
        self.enabled = False
        self.toxics: dict[str, ToxicSpec] = {}
        self.connections: set[Connection] = set()
        self._server: asyncio.Server | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "listen": self.listen, "upstream": self.upstream,
                "enabled": self.enabled, "toxics": [t.to_json() for t in self.toxic_list()]}

    def toxic_list(self) -> list[ToxicSpec]:
        # Toxiproxy lists upstream toxics first, then downstream, each in the order added.
        ordered = list(self.toxics.values())
        return [t for t in ordered if t.stream == "upstream"] + [t for t in ordered if t.stream == "downstream"]

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        if self.enabled:
            return
        host, port = parse_address(self.listen, "listen")
        loop = asyncio.get_running_loop()
        try:
            self._server = await loop.create_server(self._accepted_protocol, host, port, backlog=1024,
                                                    reuse_address=True)
        except OSError as exc:
            raise ApiProblem(
                f"proxy '{self.name}' cannot listen on {self.listen}: {exc.strerror or exc}; "
                f"choose a free port for 'listen'", 500) from None
        sock = self._server.sockets[0]
        bound_host, bound_port = sock.getsockname()[:2]
        self.listen = f"{bound_host}:{bound_port}"
        self.enabled = True
        log.info("proxy '%s': listening on %s, upstream %s", self.name, self.listen, self.upstream)

    async def stop(self) -> None:
        """Stop listening (new clients are refused) and close every live connection."""
        if not self.enabled:
            return
        self.enabled = False
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for conn in list(self.connections):
            conn.close()
        self.connections.clear()
        log.info("proxy '%s': disabled (listener %s closed, connections closed)", self.name, self.listen)

    async def update(self, listen: str, upstream: str, enabled: bool) -> None:
        if listen != self.listen or upstream != self.upstream:
            await self.stop()
            self.listen, self.upstream = listen, upstream
        if enabled:
            await self.start()
        else:
            await self.stop()

    # -- toxics ------------------------------------------------------------------------------
    def add_toxic(self, spec: ToxicSpec) -> None:
        if spec.name in self.toxics:
            raise ApiProblem("toxic already exists", 409)
        self.toxics[spec.name] = spec
        self._apply()

    def replace_toxic(self, spec: ToxicSpec) -> None:
        self.toxics[spec.name] = spec
        self._apply()

    def remove_toxic(self, name: str) -> None:
        if name not in self.toxics:
            raise ApiProblem("toxic not found", 404)
        del self.toxics[name]
        self._apply()

    def reset_toxics(self) -> None:
        self.toxics.clear()
        self._apply()

    def _apply(self) -> None:
        specs = list(self.toxics.values())
        for conn in list(self.connections):
            conn.set_toxics(specs)

    # -- connections -------------------------------------------------------------------------
    def _accepted_protocol(self) -> asyncio.Protocol:
        conn = Connection(self.name, self.upstream, self.connections.discard)
        self.connections.add(conn)
        side = conn.client_protocol()
        asyncio.get_running_loop().create_task(self._connect_upstream(conn))
        return side

    async def _connect_upstream(self, conn: Connection) -> None:
        loop = asyncio.get_running_loop()
        upstream = self.upstream
        try:
            host, port = parse_address(upstream, "upstream")
            await loop.create_connection(conn.server_protocol, host, port)
        except (OSError, ApiProblem) as exc:
            client = conn.client_side.transport.get_extra_info("peername") \
                if conn.client_side and conn.client_side.transport else None
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            log.error("proxy '%s': cannot connect to upstream %s for client %s: %s; "
                      "closing the client connection (is the upstream service running?)",
                      self.name, upstream, _addr(client), reason)
            conn.close()
            return
        if conn.closed:  # the client went away (or the proxy was disabled) while we connected
            conn.close()
            if conn.server_side is not None and conn.server_side.transport is not None:
                conn.server_side.transport.close()
            return
        conn.set_toxics(self.toxics.values())  # also flushes bytes the client sent early


def _addr(peer: object) -> str:
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return "?"
