"""Shared pieces of the aws kind's tests: a stack file, fixtures folders, boto3 clients."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stackrig import Stack
from stackrig.kinds.aws._reset import AwsReset

STACK = """
[services.aws]
kind = "aws"
buckets = ["plain", { name = "uploads", from = "fixtures/uploads" }]
queues = [
  "jobs",
  "dlq",
  { name = "work", dead_letter = "dlq", max_receives = 2, visibility_timeout = 5 },
  { name = "orders.fifo", content_based_deduplication = true },
]
topics = [
  { name = "order-events", subscriptions = ["jobs", { queue = "work", raw = true }] },
  "audit",
]
"""


def write_project(root: Path, stack: str = STACK) -> Path:
    (root / "fixtures" / "uploads" / "docs").mkdir(parents=True, exist_ok=True)
    (root / "fixtures" / "uploads" / "hello.txt").write_text("hello\n")
    (root / "fixtures" / "uploads" / "docs" / "readme.json").write_text('{"v": 1}\n')
    path = root / "stackrig.toml"
    path.write_text(textwrap.dedent(stack))
    return path


def boto(url: str, service: str, retries: int = 1, **config: Any) -> Any:
    """A boto3 client as an application would make it (retries off unless asked)."""
    import boto3
    from botocore.config import Config

    return boto3.client(service, endpoint_url=url, region_name="us-east-1", aws_access_key_id="x",
                        aws_secret_access_key="y",
                        config=Config(retries={"max_attempts": retries, "mode": "standard"}, **config))


@pytest.fixture(scope="module")
def aws_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    stack = Stack.load(write_project(tmp_path_factory.mktemp("aws")))
    rig = stack.up()
    try:
        yield rig
    finally:
        stack.down()


@pytest.fixture(scope="module")
def aws_reset(aws_stack: Any) -> Iterator[AwsReset]:
    reset = AwsReset(aws_stack["aws"])
    yield reset
    reset.close()


@pytest.fixture
def rig(aws_stack: Any, aws_reset: AwsReset, request: pytest.FixtureRequest) -> Iterator[Any]:
    """The module's stack, put back to its baseline after each test (as the plugin does)."""
    yield aws_stack
    aws_stack.close_taps()
    aws_reset.after(request.node.nodeid)
