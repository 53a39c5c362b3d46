"""Taps on Redis pub/sub and streams, fed by publishers that are other processes."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from stackrig import Stack, StackrigError
from stackrig.events import EventNotSeen

STACK = """
[services.cache]
kind = "redis"
export = { REDIS_URL = "${url}" }
"""

PUBLISH = """
import json, sys, redis
r = redis.Redis.from_url(sys.argv[1])
for i in range(3):
    r.publish(f"orders:{i}", json.dumps({"id": i, "total_cents": 500 * i}))
r.xadd("audit", {"who": "ann", "what": "login"})
"""


def publisher(url: str) -> None:
    subprocess.run([sys.executable, "-c", PUBLISH, url], check=True, timeout=30)


def test_channel_patterns_and_streams_from_another_process(stackfile: Callable[[str], Path]) -> None:
    with Stack.load(stackfile(STACK)) as rig:
        rig.redis("cache").xadd("audit", {"who": "before", "what": "the tap"})
        orders = rig.events("cache", "orders:*")
        audit = rig.events("cache", "audit", stream=True)
        publisher(rig["cache"].url)
        ev = orders.wait_for("orders:2", match={"total_cents": 1000}, timeout=5)
        assert ev.body == {"id": 2, "total_cents": 1000}
        assert [orders.wait_for(f"orders:{i}", timeout=5).body["id"] for i in (0, 1)] == [0, 1]
        assert orders.count("orders:*") == 3
        entry = audit.wait_for(match={"who": "ann"}, timeout=5)
        assert entry.meta["id"] and entry.body == {"who": "ann", "what": "login"}
        assert [e.body["who"] for e in audit.events] == ["ann"]  # the entry made before the tap is not in it
        orders.expect_none("orders:9", during=0.2)
        rig.publish("cache", "orders:7", {"id": 7})
        assert orders.wait_for("orders:7", timeout=5).body == {"id": 7}
        rig.publish("cache", "audit", {"who": "bob"}, stream=True)
        assert audit.wait_for(match={"who": "bob"}, timeout=5)
        with pytest.raises(EventNotSeen, match=r"no event with subject 'orders:8' on the tap on 'cache' \(orders:\*"):
            orders.wait_for("orders:8", timeout=0.2)


def test_bad_tap_options_are_named(stackfile: Callable[[str], Path]) -> None:
    with Stack.load(stackfile(STACK)) as rig:
        with pytest.raises(StackrigError, match=r"unknown option\(s\) exchange"):
            rig.events("cache", "x", exchange="orders")
        with pytest.raises(StackrigError, match="redis has no headers"):
            rig.publish("cache", "x", {"a": 1}, headers={"k": "v"})


def test_taps_in_a_pytest_session_show_in_the_failure_report(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", stackrig=STACK)
    pytester.makepyfile("""
        def test_publishes(rig):
            tap = rig.events("cache", "orders:*")
            rig.publish("cache", "orders:1", {"id": 1})
            tap.wait_for("orders:1")
            assert False, "look at the events"

        def test_next_test_has_no_taps(rig):
            assert rig.taps == []
    """)
    result = pytester.runpytest_subprocess("-p", "no:randomly")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*stackrig: events the test's taps saw*",
                                 "*tap on 'cache' (orders:*, PSUBSCRIBE): 1 events*", "*orders:1 +*{\"id\":1}*"])
