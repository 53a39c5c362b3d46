"""An application under test: subscribes to `cmd/#` and answers each command on `ack/<rest>`.

A persistent session (clean_session false, QoS 1) with paho's automatic reconnect, so commands
published while it is disconnected are delivered when it is back.  On every (re)connect it
publishes `app/connected` {"count": n}.  Reads MQTT_URL and APP_ID from its environment."""

import json
import os
import signal
import sys
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

url = urlsplit(os.environ["MQTT_URL"])
app_id = os.environ.get("APP_ID", "echo-app")
connects = 0


def on_connect(client, userdata, flags, reason_code, properties):
    global connects
    if reason_code.is_failure:
        print(f"refused: {reason_code}", flush=True)
        return
    connects += 1
    print(f"connected #{connects} (session present: {flags.session_present})", flush=True)
    client.subscribe("cmd/#", qos=1)
    client.publish("app/connected", json.dumps({"count": connects, "app": app_id}), qos=1)


def on_message(client, userdata, msg):
    body = msg.payload.decode()
    print(f"got {msg.topic} {body}", flush=True)
    client.publish("ack/" + msg.topic.split("/", 1)[1], json.dumps({"got": body, "connects": connects}), qos=1)


def on_disconnect(client, userdata, flags, reason_code, properties):
    print(f"disconnected: {reason_code}", flush=True)


client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=app_id, clean_session=False, protocol=mqtt.MQTTv311)
if url.username:
    client.username_pw_set(url.username, url.password)
client.on_connect = on_connect
client.on_message = on_message
client.on_disconnect = on_disconnect
client.reconnect_delay_set(0.05, 0.5)
signal.signal(signal.SIGTERM, lambda *a: (client.disconnect(), sys.exit(0)))
client.connect(url.hostname, url.port, keepalive=5)
client.loop_forever(retry_first_connection=True)
