"""A publisher in another process: `publisher.py URL TOPIC COUNT [--retain] [--qos N] [--interval S]`.

Publishes COUNT JSON messages {"seq": i, "pid": ...} on TOPIC (``{i}`` in it is the sequence
number) with paho-mqtt (MQTT 3.1.1, which both brokers speak), waits for each, exits 0.
With COUNT 0 it publishes forever, one message per interval (a `kind = "process"` service)."""

import argparse
import json
import os
import sys
import time
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

parser = argparse.ArgumentParser()
parser.add_argument("url")
parser.add_argument("topic")
parser.add_argument("count", type=int)
parser.add_argument("--retain", action="store_true")
parser.add_argument("--qos", type=int, default=1)
parser.add_argument("--interval", type=float, default=0.0)
args = parser.parse_args()

url = urlsplit(args.url)
client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"publisher-{os.getpid()}", protocol=mqtt.MQTTv311)
if url.username:
    client.username_pw_set(url.username, url.password)
client.connect(url.hostname, url.port)
client.loop_start()
seq = 0
while args.count == 0 or seq < args.count:
    body = json.dumps({"seq": seq, "pid": os.getpid()})
    info = client.publish(args.topic.replace("{i}", str(seq)), body, qos=args.qos, retain=args.retain)
    info.wait_for_publish(10)
    seq += 1
    if args.interval:
        time.sleep(args.interval)
client.disconnect()
client.loop_stop()
print(f"published {seq}", flush=True)
sys.exit(0)
