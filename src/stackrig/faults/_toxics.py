"""What each toxic does to the bytes of one direction of one connection.

A stage gets a chunk (bytes and the loop time it arrived) and hands what is
left of it to ``emit`` (the next stage, finally the destination socket).  It
may sleep, split, drop, or end the connection by raising :class:`Hangup`.
Semantics follow Toxiproxy's toxics of the same name.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import ClassVar

from ._model import ToxicSpec

__all__ = ["Emit", "Hangup", "Stage", "make_stage"]

Emit = Callable[[bytes, float], Awaitable[None]]


class Hangup(Exception):
    """A toxic ends the connection: a normal close, or a TCP reset when ``reset`` is true."""

    def __init__(self, reason: str, *, reset: bool = False) -> None:
        self.reason = reason
        self.reset = reset
        super().__init__(reason)


class Stage:
    """Per-connection state of one toxic; subclasses override `handle` and maybe `on_eof`/`timer`."""

    kind: ClassVar[str] = ""

    def __init__(self, spec: ToxicSpec) -> None:
        self.spec = spec

    def attr(self, name: str) -> int:
        return self.spec.attributes.get(name, 0)

    async def handle(self, data: bytes, ts: float, emit: Emit) -> None:
        await emit(data, ts)

    async def on_eof(self) -> None:
        """Called when the source side closed, before the close is passed on."""

    def timer(self) -> float | None:
        """Seconds after activation at which this toxic ends the connection, or None."""
        return None


async def _sleep_until(when: float) -> None:
    delay = when - asyncio.get_running_loop().time()
    if delay > 0:
        await asyncio.sleep(delay)


class Latency(Stage):
    kind = "latency"

    async def handle(self, data: bytes, ts: float, emit: Emit) -> None:
        delay = self.attr("latency")
        jitter = self.attr("jitter")
        if jitter > 0:
            delay += random.randint(-jitter, jitter)
        # Measured from arrival, so chunks queued behind a sleeping one are not delayed twice.
        await _sleep_until(ts + max(delay, 0) / 1000.0)
        await emit(data, ts)


class Bandwidth(Stage):
    kind = "bandwidth"

    def __init__(self, spec: ToxicSpec) -> None:
        super().__init__(spec)
        self._free_at = 0.0

    async def handle(self, data: bytes, ts: float, emit: Emit) -> None:
        rate = self.attr("rate") * 1000  # bytes per second (Toxiproxy: KB/s with KB = 1000 bytes)
        if rate <= 0:
            await emit(data, ts)
            return
        piece = max(rate // 10, 1)  # at most 100 ms worth of bytes at a time, like Toxiproxy
        loop = asyncio.get_running_loop()
        for start in range(0, len(data), piece):
            part = data[start:start + piece]
            self._free_at = max(self._free_at, loop.time()) + len(part) / rate
            await _sleep_until(self._free_at)
            await emit(part, ts)


class Slicer(Stage):
    kind = "slicer"

    def _cuts(self, size: int) -> list[int]:
        average, variation = self.attr("average_size"), self.attr("size_variation")
        cuts = [0]
        while size - cuts[-1] > average + variation:
            step = average + (random.randint(-variation, variation) if variation else 0)
            cuts.append(cuts[-1] + max(step, 1))
        cuts.append(size)
        return cuts

    async def handle(self, data: bytes, ts: float, emit: Emit) -> None:
        cuts = self._cuts(len(data))
        delay = self.attr("delay") / 1_000_000
        for i in range(1, len(cuts)):
            await emit(data[cuts[i - 1]:cuts[i]], ts)
            if delay > 0 and i < len(cuts) - 1:
                await asyncio.sleep(delay)


class LimitData(Stage):
    kind = "limit_data"

    def __init__(self, spec: ToxicSpec) -> None:
        super().__init__(spec)
        self.sent = 0

    async def handle(self, data: bytes, ts: float, emit: Emit) -> None:
        remaining = self.attr("bytes") - self.sent
        if remaining > 0:
            part = data[:remaining]
            self.sent += len(part)
            await emit(part, ts)
        if self.attr("bytes") - self.sent <= 0:
            raise Hangup(f"limit_data toxic '{self.spec.name}': {self.attr('bytes')} bytes passed")


class Timeout(Stage):
    kind = "timeout"

    async def handle(self, data: bytes, ts: float, emit: Emit) -> None:
        return  # data is dropped on the floor; the connection stalls

    def timer(self) -> float | None:
        ms = self.attr("timeout")
        return ms / 1000.0 if ms > 0 else None


class ResetPeer(Stage):
    kind = "reset_peer"

    async def handle(self, data: bytes, ts: float, emit: Emit) -> None:
        await asyncio.sleep(self.attr("timeout") / 1000.0)
        raise Hangup(f"reset_peer toxic '{self.spec.name}'", reset=True)


class SlowClose(Stage):
    kind = "slow_close"

    async def on_eof(self) -> None:
        await asyncio.sleep(self.attr("delay") / 1000.0)


_STAGES: dict[str, type[Stage]] = {
    cls.kind: cls for cls in (Latency, Bandwidth, Slicer, LimitData, Timeout, ResetPeer, SlowClose)
}


def make_stage(spec: ToxicSpec) -> Stage:
    return _STAGES[spec.type](spec)
