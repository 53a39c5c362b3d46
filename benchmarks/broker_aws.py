"""kind = "aws": stackrig vs moto_server started by hand, side by side in one run.

    python benchmarks/broker_aws.py [--runs 5] [--messages 40]

(a) time to ready, empty stack: `StackRunner.up()` of a stack with one `kind = "aws"` service
    and nothing declared, vs a direct start of `moto_server -H 127.0.0.1 -p PORT` until it answers
    an HTTP request (GET /moto-api/).  Target: a/b <= 1.3.
(a') the same with resources (2 buckets, one filled from a folder of 20 files, 4 queues with a
    FIFO one and a redrive policy, 2 topics with 2 subscriptions), vs moto_server + a hand-written
    boto3 script creating the same (boto3 already imported: only client creation and calls count).
(r) the per-test reset: a noop (the test changed nothing), a dirty one (one object put, one message
    sent), each the median of many.
(t) tap latency on an SNS topic: the time from `sns.publish()` returning until the message is in
    a stackrig tap, vs until a hand-written boto3 long-poll consumer of a subscribed queue has it;
    the same messages, both listening at once.  Target: tap/hand <= 1.5.
"""

from __future__ import annotations

import argparse
import http.client
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
import boto3  # noqa: E402
from _common import machine, median, table, today  # noqa: E402
from botocore.config import Config  # noqa: E402

from stackrig import Stack, load_stack  # noqa: E402
from stackrig.kinds.aws._reset import AwsReset  # noqa: E402
from stackrig.run import StackRunner  # noqa: E402

EMPTY = '[services.aws]\nkind = "aws"\n'
FULL = """
[services.aws]
kind = "aws"
buckets = ["plain", { name = "uploads", from = "fixtures" }]
queues = ["jobs", "dlq", { name = "work", dead_letter = "dlq", max_receives = 3 },
          { name = "orders.fifo", content_based_deduplication = true }]
topics = [{ name = "order-events", subscriptions = ["jobs", { queue = "work", raw = true }] }, "audit"]
"""
ACCOUNT = "123456789012"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def client(url: str, name: str) -> Any:
    return boto3.client(name, endpoint_url=url, region_name="us-east-1", aws_access_key_id="t",  # type: ignore[call-overload]
                        aws_secret_access_key="t", config=Config(retries={"max_attempts": 1}))


def project(root: Path, text: str) -> Path:
    (root / "fixtures").mkdir(parents=True, exist_ok=True)
    for i in range(20):
        (root / "fixtures" / f"file-{i:02}.json").write_text(f'{{"i": {i}}}\n')
    path = root / "stackrig.toml"
    path.write_text(text)
    return path


def stackrig_ready(path: Path) -> float:
    runner = StackRunner(load_stack(path))
    t0 = time.perf_counter()
    runner.up()
    elapsed = time.perf_counter() - t0
    runner.down()
    return elapsed


def hand_resources(url: str, fixtures: Path) -> None:
    s3, sqs, sns = client(url, "s3"), client(url, "sqs"), client(url, "sns")
    s3.create_bucket(Bucket="plain")
    s3.create_bucket(Bucket="uploads")
    for f in sorted(fixtures.iterdir()):
        s3.put_object(Bucket="uploads", Key=f.name, Body=f.read_bytes(), ContentType="application/json")
    for name in ("jobs", "dlq", "work"):
        sqs.create_queue(QueueName=name)
    sqs.create_queue(QueueName="orders.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"})
    sqs.set_queue_attributes(QueueUrl=f"{url}/{ACCOUNT}/work", Attributes={
        "RedrivePolicy": f'{{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:{ACCOUNT}:dlq","maxReceiveCount":"3"}}'})
    arn = sns.create_topic(Name="order-events")["TopicArn"]
    sns.create_topic(Name="audit")
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=f"arn:aws:sqs:us-east-1:{ACCOUNT}:jobs")
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=f"arn:aws:sqs:us-east-1:{ACCOUNT}:work",
                  Attributes={"RawMessageDelivery": "true"})


def direct_ready(resources: Path | None) -> float:
    port = free_port()
    t0 = time.perf_counter()
    proc = subprocess.Popen([str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/moto-api/")
                conn.getresponse().read()
                conn.close()
                break
            except OSError:
                time.sleep(0.003)
        if resources is not None:
            hand_resources(f"http://127.0.0.1:{port}", resources)
        return time.perf_counter() - t0
    finally:
        proc.kill()
        proc.wait()


def bench_ready(runs: int, work: Path) -> list[list[str]]:
    empty, full = project(work / "empty", EMPTY), project(work / "full", FULL)
    stackrig_ready(empty)  # warm the version cache and the page cache for both
    direct_ready(None)
    rows = []
    for label, path, fixtures in (("empty stack", empty, None), ("with resources", full, work / "full" / "fixtures")):
        a, b = [], []
        for _ in range(runs):
            a.append(stackrig_ready(path))
            b.append(direct_ready(fixtures))
        ra, rb = median(a), median(b)
        rows.append([f"time to ready, {label}", f"{ra * 1000:.0f} ms", f"{rb * 1000:.0f} ms", f"{ra / rb:.2f}",
                     "<= 1.3" if fixtures is None else "-"])
    return rows


def bench_reset_and_tap(work: Path, messages: int) -> list[list[str]]:
    stack = Stack.load(project(work / "live", FULL))
    rig = stack.up()
    rows: list[list[str]] = []
    try:
        url = rig["aws"].direct_url
        reset = AwsReset(rig["aws"])
        s3, sqs, sns = client(url, "s3"), client(url, "sqs"), client(url, "sns")
        reset.after("warm")
        noop = []
        for _ in range(300):
            t0 = time.perf_counter()
            reset.after("noop")
            noop.append(time.perf_counter() - t0)
        s3.put_object(Bucket="uploads", Key="warm", Body=b"x")
        reset.after("warm")  # boto3 clients of the reset made once per session
        dirty, dirty_s3, dirty_sqs = [], [], []
        for i in range(30):
            s3.put_object(Bucket="uploads", Key=f"new-{i}", Body=b"x")
            sqs.send_message(QueueUrl=f"{url}/{ACCOUNT}/jobs", MessageBody="m")
            t0 = time.perf_counter()
            reset.after("dirty")
            dirty.append(time.perf_counter() - t0)
            s3.put_object(Bucket="uploads", Key="file-00.json", Body=b"changed")
            t0 = time.perf_counter()
            reset.after("dirty-s3")
            dirty_s3.append(time.perf_counter() - t0)
            sqs.send_message(QueueUrl=f"{url}/{ACCOUNT}/jobs", MessageBody="m")
            t0 = time.perf_counter()
            reset.after("dirty-sqs")
            dirty_sqs.append(time.perf_counter() - t0)
        rows.append(["reset, noop (test changed nothing)", f"{median(noop) * 1000:.2f} ms", "-", "-", "-"])
        rows.append(["reset, dirty S3 + SQS (1 object, 1 message)", f"{median(dirty) * 1000:.1f} ms", "-", "-", "-"])
        rows.append(["reset, dirty S3 only (1 object changed)", f"{median(dirty_s3) * 1000:.1f} ms", "-", "-", "-"])
        rows.append(["reset, dirty SQS only (1 message)", f"{median(dirty_sqs) * 1000:.1f} ms", "-", "-", "-"])
        reset.close()

        # tap latency: a stackrig tap and a hand-written long-poll consumer, both on the same messages
        sqs.create_queue(QueueName="hand")
        arn = f"arn:aws:sns:us-east-1:{ACCOUNT}:order-events"
        sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=f"arn:aws:sqs:us-east-1:{ACCOUNT}:hand",
                      Attributes={"RawMessageDelivery": "true"})
        got_hand: dict[str, float] = {}
        stop = threading.Event()

        def hand_consumer() -> None:
            c = client(url, "sqs")
            q = f"{url}/{ACCOUNT}/hand"
            while not stop.is_set():
                for m in c.receive_message(QueueUrl=q, WaitTimeSeconds=1, MaxNumberOfMessages=10).get("Messages", []):
                    got_hand[m["Body"]] = time.time()
                    c.delete_message(QueueUrl=q, ReceiptHandle=m["ReceiptHandle"])

        thread = threading.Thread(target=hand_consumer, daemon=True)
        thread.start()
        tap = rig.events("aws", "order-events")
        time.sleep(1.2)  # both polling
        lat_tap, lat_hand = [], []
        for i in range(messages):
            body = f'{{"i": {i}}}'
            sent = time.time()  # both latencies from the moment the publisher calls publish()
            sns.publish(TopicArn=arn, Message=body)
            ev = tap.wait_for(match={"i": i}, timeout=10)
            deadline = time.monotonic() + 10
            while body not in got_hand and time.monotonic() < deadline:
                time.sleep(0.0005)
            lat_tap.append(ev.timestamp - sent)
            lat_hand.append(got_hand[body] - sent)
            time.sleep(0.05)
        stop.set()
        tap.close()
        ta, th = median(lat_tap), median(lat_hand)
        rows.append([f"tap latency on an SNS topic ({messages} messages)", f"{ta * 1000:.2f} ms",
                     f"{th * 1000:.2f} ms", f"{ta / th:.2f}", "<= 1.5"])
        thread.join(5)
    finally:
        rig.close()
        stack.down()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--messages", type=int, default=40)
    args = parser.parse_args()
    import moto

    with tempfile.TemporaryDirectory(prefix="stackrig-bench-aws-") as tmp:
        work = Path(tmp)
        rows = bench_ready(args.runs, work)
        rows += bench_reset_and_tap(work, args.messages)
    print(f"# kind = \"aws\" vs moto_server by hand, {today()}")
    print(f"{machine()}; moto {moto.__version__}, boto3 {boto3.__version__}; medians of {args.runs} starts")
    print()
    print(table(rows, ["measure", "stackrig", "by hand", "ratio", "target"]))


if __name__ == "__main__":
    main()
