"""Compose files written the way teams write them come up under stackrig, natively, and their apps
answer with working database and broker connections; concurrent runs of one file never collide."""

from __future__ import annotations

import json
import smtplib
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from compose_support import needs_rabbitmq
from helpers import leftovers, tree_of

from stackrig import Stack
from stackrig.compose import load_compose
from stackrig.errors import ServiceError

Compose = Callable[..., Path]


@pytest.mark.slow
@needs_rabbitmq
def test_the_orders_stack_postgres_13_redis_6_rabbitmq_management_and_the_app(
        project: Callable[[str], Path], stacks: list[Stack]) -> None:
    root = project("orders")
    loaded = load_compose(root / "docker-compose.test.yml", environ={})
    stack = Stack(loaded.stack)
    stacks.append(stack)
    rig = stack.up()
    api = httpx.Client(base_url=rig["api"].url, timeout=10)
    assert api.get("/health").json() == {"status": "ok", "env": "test"}
    created = api.post("/orders", json={"item": "widget", "quantity": 2})
    assert created.status_code == 201
    order = api.get(f"/orders/{created.json()['id']}").json()
    assert order == {"id": created.json()["id"], "item": "widget", "quantity": 2, "created": 1}
    # the init folder ran: the schema and the bash seed script (psql through PGHOST/PGPORT)
    rows = rig.sql("test-database").execute("SELECT item FROM orders ORDER BY id").fetchall()
    assert rows == [("seed-widget",), ("widget",)]
    # the broker: the definitions file's exchange, queue and binding; the app published through them
    assert len(rig.queue("broker", "billing")) == 1
    # the test process sees 127.0.0.1 URLs for everything, the management API included
    env = rig.env
    assert env["DATABASE_URL"].startswith(f"postgresql://orders:orders-secret@127.0.0.1:{rig['test-database'].port}/")
    assert env["API_URL"] == rig["api"].url and env["AMQP_URL"].startswith("amqp://orders:orders@127.0.0.1:")
    overview = httpx.get(env["RABBITMQ_API"] + "/overview", auth=("orders", "orders"), timeout=10)
    assert overview.status_code == 200
    assert all(str(p) not in {"5432", "6379", "5672", "15672", "8000"} for p in
               (rig["test-database"].port, rig["cache"].port, rig["broker"].port, rig["api"].port))
    pids = [p for name in ("test-database", "cache", "broker", "api") for p in rig[name].info.pids]
    tree = tree_of(pids)
    run_id = stack.run_id or ""
    stack.down()
    stacks.remove(stack)
    assert leftovers(run_id, pids, tree) == []


@pytest.mark.slow
def test_concurrent_runs_of_one_compose_file_never_collide(project: Callable[[str], Path],
                                                           stacks: list[Stack]) -> None:
    """Two runs of the same docker-compose.yml at once (two terminals, two CI jobs on one machine): the
    fixed `5432:5432`, `6379:6379` and `8080:8080` never matter; each run has its own data."""
    root = project("inventory")
    path = root / "docker-compose.yml"
    first, second = Stack(load_compose(path).stack), Stack(load_compose(path).stack)
    stacks.extend([first, second])
    a, b = first.up(), second.up()
    ports = {(s.run_id, name, a_or_b[name].port) for s, a_or_b in ((first, a), (second, b))
             for name in ("db", "redis", "web")}
    assert len({p for _, _, p in ports}) == 6
    for rig in (a, b):  # the migration job ran in each run before the app started
        assert httpx.get(rig["web"].url + "/items").json() == {"items": {"apple": 3}, "views": 1}
    assert httpx.post(a["web"].url + "/items", json={"sku": "pear", "stock": 5}).status_code == 201
    assert httpx.get(a["web"].url + "/items").json()["items"] == {"apple": 3, "pear": 5}
    assert httpx.get(b["web"].url + "/items").json() == {"items": {"apple": 3}, "views": 2}
    assert b.env["REDIS_PORT"] == str(b["redis"].port) and b.env["DB_HOST"] == "127.0.0.1"


def test_a_failing_job_fails_the_run_with_its_log(compose: Compose, stacks: list[Stack]) -> None:
    path = compose("""
        services:
          migrate:
            image: python:3.12-slim
            command: ["python", "-c", "import sys; print('relation users already exists'); sys.exit(3)"]
          app:
            image: python:3.12-slim
            command: python -m http.server 8000
            ports: ["8000:8000"]
            depends_on:
              migrate:
                condition: service_completed_successfully
        """)
    stack = Stack(load_compose(path).stack)
    stacks.append(stack)
    with pytest.raises(ServiceError) as info:
        stack.up()
    text = str(info.value)
    assert "migrate" in text and "3" in text and "relation users already exists" in text


def test_stubs_faults_and_mail(compose: Compose, stacks: list[Stack], toxiproxy_kind: None) -> None:
    """WireMock's mounted mappings, Toxiproxy's -config proxies and MailHog's SMTP port, natively."""
    import redis

    from stackrig.faults import FaultClient

    path = compose("""
        services:
          cache:
            image: redis:7
          toxiproxy:
            image: ghcr.io/shopify/toxiproxy:2.9.0
            command: ["-host=0.0.0.0", "-config", "/config/toxiproxy.json"]
            volumes:
              - ./toxiproxy.json:/config/toxiproxy.json:ro
            ports: ["8474:8474", "26379:26379"]
          payments:
            image: wiremock/wiremock:3.3.1
            volumes:
              - ./wiremock:/home/wiremock
            ports: ["8080:8080"]
          mailhog:
            image: mailhog/mailhog:v1.0.1
            ports: ["1025:1025", "8025:8025"]
        """, files={
            "toxiproxy.json": json.dumps([{"name": "redis", "listen": "0.0.0.0:26379", "upstream": "cache:6379",
                                           "enabled": True}]),
            "wiremock/mappings/charge.json": json.dumps({"request": {"method": "POST", "url": "/charges"},
                                                         "response": {"status": 201, "jsonBody": {"id": "ch_1"}}}),
        })
    stack = Stack(load_compose(path).stack)
    stacks.append(stack)
    rig = stack.up()
    via_proxy = redis.Redis(host="127.0.0.1", port=int(rig["toxiproxy"].attributes["listen.redis"]),
                            socket_timeout=2)
    assert via_proxy.ping()
    with FaultClient(rig["toxiproxy"].url) as faults:
        assert set(faults.proxies()) == {"redis"}
        with faults.proxy("redis").down():
            with pytest.raises(redis.ConnectionError):
                redis.Redis(host="127.0.0.1", port=int(rig["toxiproxy"].attributes["listen.redis"]),
                            socket_timeout=1).ping()
    charge = httpx.post(rig["payments"].url + "/charges", timeout=5)
    assert (charge.status_code, charge.json()) == (201, {"id": "ch_1"})
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "shop@example.com", "ann@example.com", "Your order"
    msg.set_content("thanks")
    with smtplib.SMTP("127.0.0.1", rig["mailhog"].port, timeout=5) as smtp:
        smtp.send_message(msg)
    assert rig.mail("mailhog").wait_for(to="ann@example.com").subject == "Your order"


def test_the_tag_is_a_preference_the_nearest_version_runs(compose: Compose, stacks: list[Stack],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """`postgres:9.6` runs the nearest PostgreSQL here and says so; --strict-versions refuses it."""
    from stackrig.errors import StackrigError

    path = compose("""
        services:
          db:
            image: postgres:9.6
        """)
    monkeypatch.delenv("STACKRIG_STRICT_VERSIONS", raising=False)
    stack = Stack(load_compose(path).stack)
    stacks.append(stack)
    try:
        rig = stack.up()
    except StackrigError as exc:
        pytest.skip(f"no PostgreSQL here: {exc}")
    said = [*stack.file.warnings, *stack.warnings]  # type: ignore[attr-defined]
    assert any("9.6" in w and "nearest" in w for w in said), said
    assert rig.sql("db").execute("SELECT 1").fetchone() == (1,)
    stack.down()
    stacks.remove(stack)
    monkeypatch.setenv("STACKRIG_STRICT_VERSIONS", "1")
    with pytest.raises(StackrigError, match="9.6"):
        strict = Stack(load_compose(path).stack)
        stacks.append(strict)
        strict.up()
