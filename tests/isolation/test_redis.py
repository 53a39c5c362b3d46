"""RedisIsolation against a real redis-server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis

from stackrig.errors import IsolationError
from stackrig.isolation import RedisIsolation, ResetFailed


@pytest.fixture
def client(redis_server: Any) -> Iterator[redis.Redis]:
    with redis.Redis(host=redis_server.host, port=redis_server.port) as r:
        r.flushall()
        yield r


def test_flushes_only_when_something_was_written(redis_server: Any, client: redis.Redis) -> None:
    with RedisIsolation(redis_server.url(), db=5) as iso:
        iso.install()
        app = redis.Redis(host=redis_server.host, port=redis_server.port, db=5)
        app.get("nothing")
        app.exists("nothing")
        assert iso.reset().mode == "noop"  # reads are not writes
        app.set("session:1", "x")
        app.hset("cart:1", mapping={"sku": "a"})
        report = iso.reset(test_id="tests/test_cart.py::test_add")
        assert report.mode == "restore" and report.deleted == 2
        assert app.dbsize() == 0
        assert iso.reset().mode == "noop"  # our own flush is not a change
        app.set("k", "v")
        app.delete("k")  # written and removed: still a write
        assert iso.reset().mode == "restore"
        app.close()


def test_the_baseline_keys_come_back_with_their_values(redis_server: Any, client: redis.Redis) -> None:
    seeded = redis.Redis(host=redis_server.host, port=redis_server.port, db=6)
    seeded.set("config:mode", "strict")
    seeded.rpush("queue", "a", "b")
    seeded.set("ttl", "x", ex=3600)
    with RedisIsolation(redis_server.url(6)) as iso:
        iso.install()
        seeded.set("config:mode", "loose")
        seeded.lpop("queue")
        seeded.set("new", "1")
        iso.reset()
        assert seeded.get("config:mode") == b"strict"
        assert seeded.lrange("queue", 0, -1) == [b"a", b"b"]
        assert seeded.get("new") is None
        assert 0 < seeded.ttl("ttl") <= 3600
    seeded.close()


def test_a_save_between_resets_still_counts_as_a_change(redis_server: Any, client: redis.Redis) -> None:
    with RedisIsolation(redis_server.url(), db=7) as iso:
        iso.install()
        app = redis.Redis(host=redis_server.host, port=redis_server.port, db=7)
        app.set("a", 1)
        app.save()  # resets the write counter to 0
        assert iso.reset().mode == "restore"
        assert app.dbsize() == 0
        app.close()


def test_prefix_mode_deletes_only_its_keys(redis_server: Any, client: redis.Redis) -> None:
    with RedisIsolation(redis_server.url(), prefix="w[1]*:") as iso:  # glob characters are literal
        iso.install()
        client.set("w[1]*:a", 1)
        client.set("w[1]*:b", 1)
        client.set("w1:a", 1)  # would match the prefix read as a glob
        client.set("other", 1)
        report = iso.reset()
        assert report.deleted == 2
        assert sorted(client.keys()) == [b"other", b"w1:a"]
        client.set("elsewhere", 1)  # a write outside the prefix: an unneeded but harmless clean-up
        assert iso.reset().mode == "restore"
        assert sorted(client.keys()) == [b"elsewhere", b"other", b"w1:a"]
        assert iso.reset().mode == "noop"


def test_errors_are_explained(redis_server: Any) -> None:
    with pytest.raises(IsolationError, match="prefix is empty"):
        RedisIsolation(redis_server.url(), prefix="")
    with pytest.raises(IsolationError, match="cannot parse the Redis URL"):
        RedisIsolation("http://nope")
    dead = RedisIsolation("redis://127.0.0.1:1/0")
    with pytest.raises(IsolationError, match="install\\(\\) failed .*ConnectionError"):
        dead.install()
    dead._stamp = object()  # type: ignore[assignment]  # as if installed, then the server went away
    with pytest.raises(ResetFailed, match="database 0 of redis://127.0.0.1:1/0") as caught:
        dead.reset(test_id="t::x")
    assert "reset after test t::x failed" in str(caught.value)
    assert dead.dirty and dead.last_error is caught.value
