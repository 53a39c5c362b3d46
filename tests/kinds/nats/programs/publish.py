"""Publish messages with nats-py from another process:

    publish.py URL SUBJECT FIRST LAST [--jetstream-retry] [--wait-for PATH]

Each body is {"id": N}, with a header x-publisher: python.  With --jetstream-retry, each is a
JetStream publish retried until the stream acks it (a publisher that rides out an outage; its
Nats-Msg-Id lets the stream drop the copies a retry may send).  With --wait-for, it connects,
prints "connected", and publishes once PATH exists."""

import asyncio
import json
import os
import sys
import time

import nats


async def main() -> None:
    url, subject, first, last = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    retry = "--jetstream-retry" in sys.argv
    nc = await nats.connect(url, name="test-publisher", reconnect_time_wait=0.1, max_reconnect_attempts=-1,
                            connect_timeout=1, allow_reconnect=True)
    js = nc.jetstream()
    if "--wait-for" in sys.argv:
        print("connected", flush=True)
        trigger = sys.argv[sys.argv.index("--wait-for") + 1]
        while not os.path.exists(trigger):
            await asyncio.sleep(0.02)
    for n in range(first, last + 1):
        body = json.dumps({"id": n}).encode()
        headers = {"content-type": "application/json", "x-publisher": "python"}
        if not retry:
            await nc.publish(subject, body, headers=headers)
            continue
        deadline = time.monotonic() + 60
        while True:
            try:
                ack = await js.publish(subject, body, headers={**headers, "Nats-Msg-Id": f"pub-{n}"}, timeout=1)
                print(f"acked {n} seq {ack.seq}", flush=True)
                break
            except Exception as exc:  # the bus is away: try again, the Nats-Msg-Id de-duplicates
                if time.monotonic() > deadline:
                    raise
                print(f"retry {n}: {type(exc).__name__}", flush=True)
                await asyncio.sleep(0.1)
    await nc.flush()
    await nc.close()


asyncio.run(main())
