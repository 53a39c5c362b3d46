"""An application on $PORT that uses AWS only through the standard environment (AWS_ENDPOINT_URL, ...).

It consumes $QUEUE_URL in a thread (reconnecting whenever the endpoint goes away) and publishes to
SNS on request: GET /health, GET /received (the bodies consumed, in order), POST /publish?topic=NAME.
"""
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import boto3
from botocore.config import Config

config = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=2, read_timeout=10)
sqs = boto3.client("sqs", config=config)
sns = boto3.client("sns", config=config)
received: list[str] = []
errors: list[str] = []


def consume() -> None:
    while True:
        try:
            got = sqs.receive_message(QueueUrl=os.environ["QUEUE_URL"], WaitTimeSeconds=1, MaxNumberOfMessages=10)
            for m in got.get("Messages", []):
                body = m["Body"]
                try:
                    envelope = json.loads(body)
                    if isinstance(envelope, dict) and envelope.get("Type") == "Notification":
                        body = envelope["Message"]
                except ValueError:
                    pass
                received.append(body)
                sqs.delete_message(QueueUrl=os.environ["QUEUE_URL"], ReceiptHandle=m["ReceiptHandle"])
        except Exception as exc:  # the endpoint went away: try again, as a real consumer would
            errors.append(type(exc).__name__)
            print("consumer error:", type(exc).__name__, flush=True)
            time.sleep(0.2)


class Handler(BaseHTTPRequestHandler):
    def _send(self, code: int, data: object) -> None:
        body = json.dumps(data).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/health":
            self._send(200, {"ok": True})
        elif self.path == "/received":
            self._send(200, {"received": received, "errors": errors})
        else:
            self._send(200, {k: v for k, v in os.environ.items() if k.startswith("AWS_")})

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        topic = parse_qs(url.query)["topic"][0]
        message = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        arn = f"arn:aws:sns:{os.environ['AWS_REGION']}:123456789012:{topic}"
        sns.publish(TopicArn=arn, Message=message,
                    MessageAttributes={"content-type": {"DataType": "String", "StringValue": "application/json"},
                                       "origin": {"DataType": "String", "StringValue": "aws_app"}})
        self._send(200, {"published": topic})

    def log_message(self, fmt: str, *args: object) -> None:
        pass


threading.Thread(target=consume, daemon=True).start()
print("serving", flush=True)
ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
