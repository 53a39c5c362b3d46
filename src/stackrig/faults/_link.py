"""One proxied connection: two directions, each with a fast path and a toxic path.

Fast path: while a direction has no active toxic, ``data_received`` writes the
chunk straight into the other transport — no queue, no task, no copy beyond the
one the event loop already made.  Toxic path: as soon as a toxic is active the
direction queues chunks (with their arrival time) and one task runs them through
the toxic stages in order.  When the last toxic goes and the queue is empty the
task ends and the direction is fast again, so ordering is always kept.  Toxics
are applied to live connections too, like Toxiproxy.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import struct
from collections import deque
from collections.abc import Callable, Iterable
from typing import cast

from ._model import ToxicSpec
from ._toxics import Hangup, Stage, make_stage

__all__ = ["Connection"]

log = logging.getLogger("stackrig.faults")

_HIGH_WATER = 1 << 20  # queued bytes above which the source is paused
_LOW_WATER = 1 << 18


class _Side(asyncio.Protocol):
    """Protocol of one socket; forwards everything to its connection."""

    def __init__(self, conn: Connection, is_client: bool) -> None:
        self.conn = conn
        self.is_client = is_client
        self.transport: asyncio.Transport | None = None
        self.paused = False  # our write buffer is full
        self.drained = asyncio.Event()
        self.drained.set()
        # Where our incoming bytes go: the other transport's write (fast path) or the direction's queue.
        self.forward: Callable[[bytes], None] = self._feed

    def _feed(self, data: bytes) -> None:
        (self.conn.upstream if self.is_client else self.conn.downstream).feed(data)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not subclasses
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass

    def data_received(self, data: bytes) -> None:
        self.forward(data)

    def eof_received(self) -> bool:
        (self.conn.upstream if self.is_client else self.conn.downstream).feed_eof()
        return True  # keep our write side open; the other direction may still send

    def connection_lost(self, exc: Exception | None) -> None:
        self.conn.side_lost(self)

    def pause_writing(self) -> None:
        self.paused = True
        self.drained.clear()
        # Fast-path back-pressure: stop reading from whoever feeds us.
        other = self.conn.server_side if self.is_client else self.conn.client_side
        if other is not None and other.transport is not None:
            other.transport.pause_reading()

    def resume_writing(self) -> None:
        self.paused = False
        self.drained.set()
        other = self.conn.server_side if self.is_client else self.conn.client_side
        if other is not None and other.transport is not None and not other.transport.is_closing():
            other.transport.resume_reading()


class Direction:
    """Bytes flowing one way (``upstream``: client → server, ``downstream``: server → client)."""

    def __init__(self, conn: Connection, stream: str) -> None:
        self.conn = conn
        self.stream = stream
        self.src: _Side | None = None
        self.dst: _Side | None = None
        self._fast = False  # becomes True once dst exists and there is nothing toxic or queued
        self.queue: deque[tuple[bytes, float] | None] = deque()  # None marks end of stream
        self.queued_bytes = 0
        self.stages: dict[str, Stage | None] = {}  # toxic name → stage, None when toxicity said no
        self.timers: dict[str, asyncio.TimerHandle] = {}
        self.wakeup = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.eof_sent = False

    @property
    def fast(self) -> bool:
        return self._fast

    @fast.setter
    def fast(self, value: bool) -> None:
        self._fast = value
        if self.src is not None:
            dst = self.dst.transport if self.dst is not None else None
            self.src.forward = dst.write if value and dst is not None else self.src._feed

    # -- input -------------------------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        if self.fast:
            assert self.dst is not None and self.dst.transport is not None
            self.dst.transport.write(data)
            return
        self.queue.append((data, asyncio.get_running_loop().time()))
        self.queued_bytes += len(data)
        if self.queued_bytes > _HIGH_WATER and self.src is not None and self.src.transport is not None:
            self.src.transport.pause_reading()
        self.wakeup.set()

    def feed_eof(self) -> None:
        if self.fast:
            self._send_eof()
            return
        self.queue.append(None)
        self.wakeup.set()

    # -- toxics ------------------------------------------------------------------------------
    def active(self) -> list[Stage]:
        return [s for s in self.stages.values() if s is not None]

    def set_toxics(self, specs: Iterable[ToxicSpec]) -> None:
        """Make the toxics of this direction exactly ``specs`` (in order), keeping existing state."""
        wanted = {spec.name: spec for spec in specs if spec.stream == self.stream}
        for name in list(self.stages):
            if name not in wanted:
                del self.stages[name]
                timer = self.timers.pop(name, None)
                if timer is not None:
                    timer.cancel()
        for name, spec in wanted.items():
            if name in self.stages:
                stage = self.stages[name]
                if stage is not None:
                    stage.spec = spec
                continue
            stage = make_stage(spec) if random.random() < spec.toxicity else None
            self.stages[name] = stage
            if stage is not None:
                after = stage.timer()
                if after is not None:
                    self.timers[name] = asyncio.get_running_loop().call_later(
                        after, self.conn.hangup, Hangup(f"timeout toxic '{name}' after {after:g} s"))
        self._kick()

    def _kick(self) -> None:
        if self.dst is None:
            return
        if self.active() or self.queue:
            self.fast = False
            if self.task is None or self.task.done():
                self.task = asyncio.get_running_loop().create_task(self._run())
            self.wakeup.set()
        elif self.task is None or self.task.done():
            self.fast = True

    # -- toxic path --------------------------------------------------------------------------
    async def _run(self) -> None:
        try:
            while True:
                if not self.queue:
                    if not self.active():
                        self.fast = True
                        return
                    self.wakeup.clear()
                    await self.wakeup.wait()
                    continue
                item = self.queue.popleft()
                stages = self.active()
                if item is None:
                    for stage in stages:
                        await stage.on_eof()
                    self._send_eof()
                    continue
                data, ts = item
                self.queued_bytes -= len(data)
                if self.queued_bytes < _LOW_WATER and self.src is not None and self.src.transport is not None \
                        and not self.src.transport.is_closing():
                    self.src.transport.resume_reading()
                await self._through(stages, 0, data, ts)
        except Hangup as hangup:
            self.conn.hangup(hangup)
        except asyncio.CancelledError:
            pass

    async def _through(self, stages: list[Stage], index: int, data: bytes, ts: float) -> None:
        if index == len(stages):
            await self._write(data)
            return

        async def emit(part: bytes, when: float) -> None:
            await self._through(stages, index + 1, part, when)

        await stages[index].handle(data, ts, emit)

    async def _write(self, data: bytes) -> None:
        dst = self.dst
        if dst is None or dst.transport is None or dst.transport.is_closing():
            return
        dst.transport.write(data)
        if dst.paused:
            await dst.drained.wait()

    def _send_eof(self) -> None:
        if self.eof_sent:
            return
        self.eof_sent = True
        dst = self.dst
        if dst is not None and dst.transport is not None and not dst.transport.is_closing():
            if dst.transport.can_write_eof():
                dst.transport.write_eof()
            else:
                dst.transport.close()
        self.conn.maybe_done()

    def stop(self) -> None:
        for timer in self.timers.values():
            timer.cancel()
        self.timers.clear()
        if self.task is not None and not self.task.done():
            self.task.cancel()


class Connection:
    """A client connection and its upstream connection, relayed through toxics."""

    def __init__(self, proxy_name: str, upstream_addr: str,
                 on_close: Callable[[Connection], None]) -> None:
        self.proxy_name = proxy_name
        self.upstream_addr = upstream_addr
        self.on_close = on_close
        self.client_side: _Side | None = None
        self.server_side: _Side | None = None
        self.upstream = Direction(self, "upstream")  # client → server
        self.downstream = Direction(self, "downstream")  # server → client
        self.closed = False

    def client_protocol(self) -> _Side:
        side = _Side(self, is_client=True)
        self.client_side = side
        self.upstream.src = side
        self.downstream.dst = side
        return side

    def server_protocol(self) -> _Side:
        side = _Side(self, is_client=False)
        self.server_side = side
        self.downstream.src = side
        self.upstream.dst = side
        return side

    def set_toxics(self, toxics: Iterable[ToxicSpec]) -> None:
        specs = list(toxics)
        self.upstream.set_toxics(specs)
        self.downstream.set_toxics(specs)

    def maybe_done(self) -> None:
        if self.upstream.eof_sent and self.downstream.eof_sent:
            self.close()

    def side_lost(self, side: _Side) -> None:
        # One socket is gone (closed or reset by its peer): close the other after it flushes.
        if not self.closed:
            self.close()

    def hangup(self, hangup: Hangup) -> None:
        log.info("proxy '%s': %s; %s the connection", self.proxy_name, hangup.reason,
                 "resetting" if hangup.reset else "closing")
        self.close(reset=hangup.reset)

    def close(self, *, reset: bool = False) -> None:
        if self.closed:
            return
        self.closed = True
        self.upstream.stop()
        self.downstream.stop()
        for side in (self.client_side, self.server_side):
            if side is None or side.transport is None:
                continue
            if reset:
                sock = side.transport.get_extra_info("socket")
                if sock is not None:
                    try:
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    except OSError:
                        pass
                side.transport.abort()
            else:
                side.transport.close()
        self.on_close(self)
