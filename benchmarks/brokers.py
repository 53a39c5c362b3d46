"""The broker kinds side by side with their peers: one command for the four per-kind benchmarks.

    python benchmarks/brokers.py [--only nats,rabbitmq,mqtt,aws] [--quick] [-- EXTRA ARGS]

Runs, one after the other (never in parallel: each measures a ratio on an otherwise quiet machine):

* ``broker_rabbitmq.py`` - time to ready vs Debian's ``rabbitmq-server`` cold boot (target <= 0.7x),
  the per-test reset vs pytest-rabbitmq's clean-up (<= 0.05x; <= 1 ms when nothing was published),
  tap latency vs an aio-pika consumer (<= 1.5x at p50 and p99);
* ``broker_nats.py`` - time to ready vs a direct nats-server start (<= 1.3x), reset, tap latency vs a
  nats-py subscriber (<= 1.5x), a tap's memory under 1 M events;
* ``broker_mqtt.py`` - the same for mosquitto and amqtt vs paho-mqtt;
* ``broker_aws.py`` - moto's server by stackrig vs by hand, and an SQS tap vs a boto3 receive loop.

Each script prints its own tables (with the machine and date); this driver prints them in order and
then each script's exit status.  ``--quick`` passes small run counts so the whole set finishes in a
few minutes (a smoke run: the medians are noisier).  Results: benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = {
    "rabbitmq": ("broker_rabbitmq.py", ["--runs", "3", "--resets", "10", "--latency", "200"]),
    "nats": ("broker_nats.py", ["--runs", "5", "--latency", "200", "--events", "100000",
                                "--reset-iterations", "50"]),
    "mqtt": ("broker_mqtt.py", ["--runs", "5", "--events", "200", "--memory-events", "100000",
                                "--memory-seconds", "60"]),
    "aws": ("broker_aws.py", ["--runs", "3", "--messages", "20"]),
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        at = argv.index("--")
        argv, extra = argv[:at], argv[at + 1:]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(SCRIPTS),
                        help=f"comma-separated subset of {', '.join(SCRIPTS)} (default: all)")
    parser.add_argument("--quick", action="store_true", help="small run counts: a smoke run")
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in SCRIPTS]
    if unknown:
        parser.error(f"--only: unknown broker {', '.join(unknown)}; choose from {', '.join(SCRIPTS)}")

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # bytecode caches on, as on a developer's machine
    results: list[tuple[str, int, float]] = []
    for name in chosen:
        script, quick = SCRIPTS[name]
        command = [sys.executable, str(HERE / script), *(quick if args.quick else []), *extra]
        print(f"\n===== {name}: {' '.join(command[1:])}\n", flush=True)
        started = time.monotonic()
        code = subprocess.call(command, env=env)
        results.append((name, code, time.monotonic() - started))
    print("\n===== summary")
    for name, code, took in results:
        print(f"{name:<9} {'ok' if code == 0 else f'exit {code}':<8} {took:6.0f} s")
    return max((code for _, code, _ in results), default=0)


if __name__ == "__main__":
    sys.exit(main())
