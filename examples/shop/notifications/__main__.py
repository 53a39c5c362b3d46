"""``python -m notifications``: see the package's docstring."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import smtplib
import sys
from email.message import EmailMessage
from typing import Any

import nats
import redis.asyncio as aioredis
from nats.aio.msg import Msg
from redis.exceptions import RedisError

log = logging.getLogger("notifications")

STREAM = "SHOP"
CONSUMERS = ("notifications-paid", "notifications-cancelled")
REMEMBER_S = 24 * 3600


def message(subject: str, event: dict[str, Any], sender: str) -> EmailMessage:
    order_id, name = event["order_id"], event.get("name") or "customer"
    amount = f"{int(event.get('total_cents') or 0) / 100:.2f} {event.get('currency') or 'EUR'}"
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = event["email"]
    if subject == "orders.paid":
        msg["Subject"] = f"Your order #{order_id} is paid"
        msg.set_content(f"Hello {name},\n\nwe received your payment of {amount} for order #{order_id}.\n"
                        "It ships soon.\n")
    else:
        msg["Subject"] = f"Your order #{order_id} was cancelled"
        msg.set_content(f"Hello {name},\n\nthe payment for order #{order_id} did not go through "
                        f"({event.get('reason') or 'no reason given'}), so the order is cancelled and "
                        "nothing was charged.\nThe items are back in stock if you want to order again.\n")
    return msg


class Worker:
    def __init__(self, env: dict[str, str]) -> None:
        self.nats_url = env["NATS_URL"]
        self.smtp = (env.get("SMTP_HOST") or "127.0.0.1", int(env.get("SMTP_PORT") or 25))
        self.sender = env.get("SMTP_FROM") or "shop@example.com"
        self.redis = aioredis.Redis.from_url(env["REDIS_URL"], decode_responses=True, socket_timeout=1,
                                             socket_connect_timeout=1) if env.get("REDIS_URL") else None
        self.stopping = asyncio.Event()

    def _send(self, msg: EmailMessage) -> None:
        with smtplib.SMTP(*self.smtp, timeout=5) as smtp:
            smtp.send_message(msg)

    async def _seen(self, key: str) -> bool:
        if self.redis is None:
            return False
        try:
            return bool(await self.redis.exists(key))
        except RedisError as exc:  # cannot tell: better an e-mail twice than none
            log.warning("cannot check %s in Redis (%s); sending", key, exc)
            return False

    async def _remember(self, key: str) -> None:
        if self.redis is not None:
            try:
                await self.redis.set(key, "1", ex=REMEMBER_S)
            except RedisError as exc:
                log.warning("cannot remember %s in Redis: %s", key, exc)

    async def handle(self, msg: Msg) -> None:
        try:
            event = json.loads(msg.data)
            order_id, to = event["order_id"], event["email"]
            if not isinstance(order_id, int) or not isinstance(to, str) or "@" not in to:
                raise ValueError("order_id or email missing")
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("%s: not an order event (%s): %r; dropped", msg.subject, exc, msg.data[:200])
            await msg.term()
            return
        key = f"notified:{msg.subject}:{order_id}"
        if await self._seen(key):
            log.info("%s for order %s: already e-mailed, nothing to do", msg.subject, order_id)
            await msg.ack()
            return
        try:
            await asyncio.to_thread(self._send, message(msg.subject, event, self.sender))
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("%s for order %s: e-mail to %s failed, retrying: %r", msg.subject, order_id, to, exc)
            await msg.nak(delay=1)
            return
        await self._remember(key)
        await msg.ack()
        log.info("%s for order %s: e-mailed %s", msg.subject, order_id, to)

    async def consume(self, js: Any, durable: str) -> None:
        sub = None
        while not self.stopping.is_set():
            try:
                if sub is None:
                    sub = await js.pull_subscribe_bind(durable, stream=STREAM)
                batch = await sub.fetch(8, timeout=1)
            except nats.errors.TimeoutError:
                continue
            except Exception as exc:  # noqa: BLE001 - disconnected: the client reconnects
                log.warning("fetching from %s/%s failed: %r", STREAM, durable, exc)
                await asyncio.sleep(0.25)
                continue
            for msg in batch:
                await self.handle(msg)

    async def run(self) -> None:
        while True:
            try:
                nc = await nats.connect(self.nats_url, name="notifications", max_reconnect_attempts=-1,
                                        reconnect_time_wait=0.25, ping_interval=5, connect_timeout=2)
                break
            except Exception as exc:  # noqa: BLE001
                log.warning("cannot connect to %s (%s); retrying", self.nats_url, exc)
                await asyncio.sleep(0.5)
        js = nc.jetstream(timeout=2)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        tasks = [asyncio.create_task(self.consume(js, durable)) for durable in CONSUMERS]
        print("notifications ready", flush=True)
        await self.stopping.wait()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await nc.close()
        if self.redis is not None:
            await self.redis.aclose()


def main() -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(asctime)s %(levelname)s %(message)s")
    try:
        worker = Worker(dict(os.environ))
    except KeyError as exc:
        print(f"notifications: environment variable {exc.args[0]} is required", file=sys.stderr)
        return 2
    asyncio.run(worker.run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
