"""A small application on NATS (nats-py), as a `kind = "process"` service of the tests.

It connects to $NATS_URL (the proxied URL when the bus is behind the fault proxy) and, by env:
  CORE_SUBJECT   a plain core subscription
  QUEUE_SUBJECT  a queue-group subscription (group "workers")
  DURABLE        pulls from this durable consumer of stream $STREAM (acks every message)
and serves on $PORT:  GET /health (200 once connected)   GET /seen (JSON: what each got, and the
connection events)   POST /publish?subject=S (body: the payload; a core publish with a header).
"""

import asyncio
import json
import os
import sys
from urllib.parse import parse_qs, urlsplit

import nats
from nats.errors import TimeoutError as NatsTimeout

seen: dict[str, list] = {"core": [], "queue": [], "durable": [], "events": []}
state: dict[str, object] = {"nc": None}


async def http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        method, target, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
        length = 0
        for line in head.decode().split("\r\n")[1:]:
            if line.lower().startswith("content-length:"):
                length = int(line.split(":", 1)[1])
        body = await reader.readexactly(length) if length else b""
        url = urlsplit(target)
        nc = state["nc"]
        status, out = 404, b"{}"
        if url.path == "/health":
            status = 200 if nc is not None and nc.is_connected else 503
            out = b"{}"
        elif url.path == "/seen":
            status, out = 200, json.dumps(seen).encode()
        elif url.path == "/publish" and method == "POST" and nc is not None:
            subject = parse_qs(url.query)["subject"][0]
            await nc.publish(subject, body, headers={"content-type": "application/json", "x-from": "app"})
            await nc.flush()
            status = 200
        writer.write(b"HTTP/1.0 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                     % (status, len(out), out))
        await writer.drain()
    finally:
        writer.close()


async def main() -> None:
    async def event(kind: str) -> None:
        seen["events"].append(kind)

    async def disconnected() -> None:
        await event("disconnected")

    async def reconnected() -> None:
        await event("reconnected")

    async def error(exc: Exception) -> None:
        seen["events"].append(f"error: {type(exc).__name__}")

    nc = await nats.connect(os.environ["NATS_URL"], name="test-app", reconnect_time_wait=0.1,
                            max_reconnect_attempts=-1, disconnected_cb=disconnected,
                            reconnected_cb=reconnected, error_cb=error)

    def collect(where: str):
        async def cb(msg) -> None:
            seen[where].append({"subject": msg.subject, "body": msg.data.decode(errors="replace"),
                                "headers": dict(msg.headers or {})})
        return cb

    if os.environ.get("CORE_SUBJECT"):
        await nc.subscribe(os.environ["CORE_SUBJECT"], cb=collect("core"))
    if os.environ.get("QUEUE_SUBJECT"):
        await nc.subscribe(os.environ["QUEUE_SUBJECT"], queue="workers", cb=collect("queue"))
    pulling = None
    if os.environ.get("DURABLE"):
        js = nc.jetstream()
        psub = await js.pull_subscribe_bind(os.environ["DURABLE"], stream=os.environ["STREAM"])
        store = collect("durable")

        async def pull() -> None:
            while True:
                try:
                    msgs = await psub.fetch(10, timeout=0.5)
                except NatsTimeout:
                    continue
                except Exception as exc:  # disconnected: try again (the test counts what arrives)
                    seen["events"].append(f"fetch: {type(exc).__name__}")
                    await asyncio.sleep(0.1)
                    continue
                for m in msgs:
                    await store(m)
                    try:
                        await m.ack()
                    except Exception as exc:
                        seen["events"].append(f"ack: {type(exc).__name__}")

        pulling = asyncio.ensure_future(pull())
    await nc.flush()
    state["nc"] = nc
    server = await asyncio.start_server(http, "127.0.0.1", int(os.environ["PORT"]))
    print("app ready", flush=True)
    async with server:
        await server.serve_forever()
    if pulling:
        pulling.cancel()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
