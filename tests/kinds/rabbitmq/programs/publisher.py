"""A publisher in another process, with another client library (pika): N messages, then exit.

    python publisher.py AMQP_URL EXCHANGE ROUTING_KEY COUNT [BODY_PREFIX]
"""

import json
import sys

import pika

url, exchange, routing_key, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
prefix = sys.argv[5] if len(sys.argv) > 5 else "msg"
conn = pika.BlockingConnection(pika.URLParameters(url))
channel = conn.channel()
channel.confirm_delivery()
for i in range(count):
    channel.basic_publish(exchange, routing_key, json.dumps({"n": i, "from": prefix}).encode(),
                          pika.BasicProperties(content_type="application/json", correlation_id=f"{prefix}-{i}",
                                               headers={"x-source": "pika"}, delivery_mode=2))
conn.close()
