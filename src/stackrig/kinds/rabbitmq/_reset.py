"""Per-test isolation of a rabbitmq service: its vhost back to the baseline, in place.

**The baseline** is the vhost's queues, exchanges and bindings when the session's first test is
about to run (what the definitions, the stack file and the application declared at start-up),
taken by the node's helper (`_helper`).

**After each test** (`isolation = "purge"`, the default), when anything may have changed, one
round trip to the helper: every queue of the vhost purged (the application keeps its connections
and consumers), queues the test declared deleted (unless something consumes from them: then
purged), exchanges and bindings it declared removed, baseline ones it deleted declared again.

**Did anything change?** A watcher in the test process hears of every change as it happens:

* every publish in the vhost, from RabbitMQ's firehose (``amq.rabbitmq.trace``, ``publish.#``,
  turned on for the vhost when the node boots or the slice is made) — into an exclusive queue of
  length 1 (``x-overflow: drop-head``), acknowledged one at a time, so a burst of publishes costs
  the test process one message, not a copy of each;
* every queue, exchange or binding created or deleted, pushed by the helper (exclusive queues —
  taps, reply queues — and their bindings excepted: they go with their connection).

A test that changed nothing costs two attribute reads and one zero-timeout ``select()`` on the
watcher's two sockets (so a change that has arrived but that the watcher's thread has not read
yet — it can lag under CPU load — still counts): a few microseconds, no network I/O.  When the
watcher's connections broke (a test stopped the broker), the next reset is a full one and the
watcher reconnects.

**The race it accepts**: a message the broker routed so shortly before the end of the test that
its firehose copy is not even on the watcher's socket yet (the broker's own latency: typically
well under a millisecond), or that the application publishes after the test ended, is not purged
after *that* test; it is after the next one that changed anything.  ``isolation = "always"``
closes the first gap (one round trip after every test, ~1–10 ms); nothing can close the second.
"""

from __future__ import annotations

import asyncio
import json
import select
import struct
from typing import Any

from ...config import ServiceSpec
from ...errors import IsolationError, StackrigError
from ...events import LoopThread
from ...services import Endpoint, TestReset
from ._helper import ControlClient, ControlError
from ._spec import RabbitSpec

__all__ = ["RabbitReset", "Watcher", "make_reset"]


class Watcher:
    """Sets `changed` when the vhost may have changed; `healthy` while it is sure to hear of it."""

    def __init__(self, url: str, control: ControlClient, vhost: str, service: str) -> None:
        self.url = url
        self.control = control
        self.vhost = vhost
        self.service = service
        self.changed = True  # unknown until subscribed
        self.healthy = False
        self.why = "not watching yet"
        self._loop: LoopThread | None = None
        self._conn: Any = None
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._fds: list[int] = []  # the sockets changes arrive on, to see data not yet read

    def start(self, timeout: float = 30.0) -> None:
        self.stop()
        self._loop = LoopThread(f"stackrig-reset-{self.service}")
        try:
            self._loop.run(self._start(), timeout)
        except BaseException:
            self.stop()
            raise
        self.healthy = True

    def pending(self) -> bool:
        """Has a change arrived on one of the watcher's sockets that its thread has not read yet?
        (One zero-timeout poll: no network I/O.  Under CPU load the loop thread can lag.)"""
        if not self._fds:
            return False
        try:
            readable, _, _ = select.select(self._fds, [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    def mark(self, why: str) -> None:
        if not self.changed:
            self.why = why
        self.changed = True

    def _lost(self, why: str) -> None:
        self.healthy = False
        self.mark(why)

    async def _start(self) -> None:
        import aio_pika

        conn = await aio_pika.connect(self.url, timeout=10,
                                      client_properties={"connection_name": "stackrig reset watcher"})
        self._conn = conn
        conn.close_callbacks.add(lambda sender, exc=None: self._lost(f"the watcher's AMQP connection closed: {exc}"))
        channel = await conn.channel()
        await channel.set_qos(prefetch_count=1)
        queue = await channel.declare_queue("", exclusive=True, auto_delete=True,
                                            arguments={"x-max-length": 1, "x-overflow": "drop-head"})
        await queue.bind("amq.rabbitmq.trace", routing_key="publish.#")

        async def on_trace(message: Any) -> None:
            self.mark(f"a message was published ({message.routing_key})")
            await message.ack()

        await queue.consume(on_trace, no_ack=False)
        reader, writer = await asyncio.open_connection(self.control.host, self.control.port)
        self._writer = writer
        request = json.dumps({"op": "watch", "vhost": self.vhost, "token": self.control.token}).encode()
        writer.write(struct.pack(">I", len(request)) + request)
        await writer.drain()
        reply = json.loads(await reader.readexactly(struct.unpack(">I", await reader.readexactly(4))[0]))
        if not reply.get("ok"):
            raise ControlError(f"service '{self.service}': the RabbitMQ node refused to watch vhost "
                               f"{self.vhost!r}: {reply.get('error', reply)}")
        self._reader_task = asyncio.get_running_loop().create_task(self._read(reader))
        mine = _fileno(writer)
        self._fds = sorted({*(_loop_sockets(asyncio.get_running_loop())), *([mine] if mine is not None else [])})

    async def _read(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                size = struct.unpack(">I", await reader.readexactly(4))[0]
                event = json.loads(await reader.readexactly(size))
                if event.get("event") == "lost":
                    self._lost(f"the node stopped reporting changes: {event.get('name')}")
                    return
                self.mark(f"{event.get('event', '?').replace('_', ' ')}: {event.get('name', '?')}")
        except (asyncio.IncompleteReadError, OSError, ValueError) as exc:
            self._lost(f"the watch connection to the node closed ({type(exc).__name__})")
        except asyncio.CancelledError:
            pass

    async def _close(self) -> None:
        if self._reader_task is not None:
            self._reader_task.cancel()
        if self._writer is not None:
            self._writer.close()
        if self._conn is not None and not self._conn.is_closed:
            self._conn.close_callbacks.clear()
            try:
                await asyncio.wait_for(self._conn.close(), 5)
            except Exception:  # noqa: BLE001, S110 - the broker may be gone; the queue went with it
                pass

    def stop(self) -> None:
        loop, self._loop = self._loop, None
        self.healthy = False
        if loop is None:
            return
        try:
            loop.run(self._close(), 10)
        except Exception:  # noqa: BLE001, S110 - closing what is already broken
            pass
        loop.close()
        self._conn = self._writer = self._reader_task = None
        self._fds = []


def _fileno(writer: asyncio.StreamWriter) -> int | None:
    sock = writer.get_extra_info("socket")
    return int(sock.fileno()) if sock is not None else None


def _loop_sockets(loop: asyncio.AbstractEventLoop) -> list[int]:
    """The sockets the watcher's own loop reads (its AMQP connection and the helper's): aiormq keeps
    its stream private, so they are taken from the loop's selector, less the loop's wake-up pipe
    (CPython's selector event loop; best effort: [] elsewhere, then only the helper's is checked)."""
    selector = getattr(loop, "_selector", None)
    wakeup = getattr(getattr(loop, "_ssock", None), "fileno", lambda: -1)()
    try:
        return [fd for fd in selector.get_map() if fd != wakeup] if selector is not None else []
    except (AttributeError, RuntimeError, TypeError):
        return []


class RabbitReset(TestReset):
    def __init__(self, spec: RabbitSpec, endpoint: Endpoint) -> None:
        attrs = endpoint.attributes
        self.service = endpoint.name
        self.vhost = attrs.get("vhost", spec.vhost)
        if not attrs.get("control_port"):
            raise StackrigError(f"service '{self.service}': no control helper in this RabbitMQ node (it was not "
                                "started by stackrig's rabbitmq kind), so its per-test reset cannot run",
                                hint='set isolation = "none" for this service')
        self.always = spec.isolation == "always"
        self.control = ControlClient(int(attrs["control_port"]), attrs.get("control_token", ""),
                                     service=self.service, timeout=spec.reset_timeout)
        self.watcher = Watcher(endpoint.direct_url, self.control, self.vhost, self.service)
        self.watcher.start()
        self.baseline = str(self.control.call("snapshot", vhost=self.vhost)["baseline"])
        self.last: dict[str, Any] = {}
        self.resets = 0
        self._dirty = False
        self._reset("session start")  # what the application published while it started

    def after(self, test_id: str) -> None:
        w = self.watcher
        if not self.always and w.healthy and not w.changed and not w.pending():
            return  # nothing published, nothing declared or deleted: no network I/O at all
        self._reset(test_id)

    def _reset(self, test_id: str) -> None:
        w = self.watcher
        why = w.why if w.changed else "a change not read yet"
        try:
            if not w.healthy:
                w.start(self.control.timeout)
            w.changed = False  # before the reset: what happens from now on is the next test's
            self.last = self.control.call("reset", vhost=self.vhost, baseline=self.baseline)
            self.resets += 1
        except (StackrigError, OSError, TimeoutError) as exc:
            self._dirty = True
            w.changed = True
            raise IsolationError(
                f"service '{self.service}': could not put vhost {self.vhost!r} back to its baseline after "
                f"{test_id} ({why}): {exc}",
                hint="a test that stops the broker must start it again (rig[...].start()) before it ends") from exc
        self._dirty = False

    def still_dirty(self) -> bool:
        return self._dirty

    def close(self) -> None:
        self.watcher.stop()
        self.control.close()


def make_reset(spec: ServiceSpec, endpoint: Endpoint) -> TestReset | None:
    assert isinstance(spec, RabbitSpec)
    if spec.isolation == "none":
        return None
    try:
        import aio_pika  # noqa: F401
    except ImportError:
        raise StackrigError(f"service '{endpoint.name}': the per-test purge of a rabbitmq service needs aio-pika",
                            hint='pip install aio-pika, or set isolation = "none"') from None
    return RabbitReset(spec, endpoint)
