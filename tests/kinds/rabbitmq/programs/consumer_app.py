"""The application under test: consumes queue $QUEUE with aio-pika's robust connection (it reconnects
by itself), and for each message publishes `processed.<routing key>` to exchange $OUT_EXCHANGE.
Writes `connected` / `disconnected` lines to $STATUS_FILE.

    AMQP_URL=amqp://... QUEUE=billing OUT_EXCHANGE=orders STATUS_FILE=... python consumer_app.py
"""

import asyncio
import os

import aio_pika


async def main() -> None:
    status = open(os.environ["STATUS_FILE"], "a", buffering=1)  # noqa: SIM115
    connection = await aio_pika.connect_robust(os.environ["AMQP_URL"], reconnect_interval=0.2,
                                               client_properties={"connection_name": "consumer-app"})
    connection.close_callbacks.add(lambda *a: status.write("disconnected\n"))
    connection.reconnect_callbacks.add(lambda *a: status.write("reconnected\n"))
    channel = await connection.channel()
    out = await channel.get_exchange(os.environ["OUT_EXCHANGE"])
    queue = await channel.get_queue(os.environ["QUEUE"])

    async def handle(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        async with message.process():
            await out.publish(aio_pika.Message(message.body, content_type=message.content_type,
                                               headers={"x-processed-by": "consumer-app"}),
                              routing_key=f"processed.{message.routing_key}")

    await queue.consume(handle)
    status.write("connected\n")
    print("connected", flush=True)
    await asyncio.Future()


asyncio.run(main())
