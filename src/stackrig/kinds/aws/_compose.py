"""`localstack/localstack` and `motoserver/moto` in a compose file as `kind = "aws"` (docs/compose.md).

moto serves what LocalStack served for tests: S3, SQS and SNS (and moto's other services).  The
ready-hook scripts a compose file mounts (``/etc/localstack/init/ready.d/*.sh``, or the legacy
``/docker-entrypoint-initaws.d``) are read for their ``awslocal``/``aws --endpoint-url`` commands:
``s3 mb``, ``s3api create-bucket``, ``sqs create-queue``, ``sns create-topic`` and ``sns subscribe`` of
a queue become `buckets`, `queues` and `topics`; any other line is reported, not run.
``DEFAULT_REGION``/``AWS_DEFAULT_REGION`` → `region`.  LocalStack's tag is not moto's version:
no preference; ``motoserver/moto``'s is.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path, PurePosixPath
from typing import Any

from ...compose import ComposeImage, ComposeMapping, ComposeService

__all__ = ["IMAGE"]

_HOOKS = ("/etc/localstack/init/ready.d", "/etc/localstack/init/boot.d", "/docker-entrypoint-initaws.d")
_ARN = re.compile(r"arn:aws:(sqs|sns):[^:]*:[^:]*:([A-Za-z0-9_.-]+)")


def _scripts(svc: ComposeService, m: ComposeMapping) -> list[tuple[Path, int]]:
    found: list[tuple[Path, int]] = []
    for v in svc.volumes:
        if v.path is None:
            continue
        target = PurePosixPath(v.target)
        if str(target) in _HOOKS and v.path.is_dir():
            m.used_volumes.add(v.index)
            found.extend((f, v.index) for f in sorted(v.path.iterdir()) if f.suffix in (".sh", ".py") and f.is_file())
        elif str(target.parent) in _HOOKS and v.path.is_file():
            m.used_volumes.add(v.index)
            found.append((v.path, v.index))
    return found


def _option(words: list[str], name: str) -> str | None:
    for i, w in enumerate(words):
        if w == name and i + 1 < len(words):
            return words[i + 1]
        if w.startswith(name + "="):
            return w.split("=", 1)[1]
    return None


def _command(words: list[str], table: dict[str, list[Any]]) -> bool:
    """Map one awslocal command; False when it is not one stackrig can declare."""
    while words and (words[0].startswith("--") or words[0] in ("awslocal", "aws")):
        words = words[2:] if words[0] in ("--endpoint-url", "--region", "--profile") else words[1:]
    if len(words) < 2 or any("$" in w for w in words):
        return False
    service, action = words[0], words[1]
    if service == "s3" and action == "mb" and len(words) > 2 and words[2].startswith("s3://"):
        table["buckets"].append(words[2][5:].strip("/"))
    elif service == "s3api" and action == "create-bucket" and _option(words, "--bucket"):
        table["buckets"].append(_option(words, "--bucket"))
    elif service == "sqs" and action == "create-queue" and _option(words, "--queue-name"):
        table["queues"].append(_option(words, "--queue-name"))
    elif service == "sns" and action == "create-topic" and _option(words, "--name"):
        table["topics"].append({"name": _option(words, "--name"), "subscriptions": []})
    elif service == "sns" and action == "subscribe" and _option(words, "--protocol") == "sqs":
        topic = _ARN.search(_option(words, "--topic-arn") or "")
        queue = _ARN.search(_option(words, "--notification-endpoint") or "")
        target = next((t for t in table["topics"] if topic and t["name"] == topic.group(2)), None)
        if target is None or queue is None:
            return False
        target["subscriptions"].append(queue.group(2))
    else:
        return False
    return True


def to_stack(svc: ComposeService) -> ComposeMapping:
    m = ComposeMapping()
    declared: dict[str, list[Any]] = {"buckets": [], "queues": [], "topics": []}
    for path, index in _scripts(svc, m):
        text = path.read_text(encoding="utf-8", errors="replace").replace("\\\n", " ")
        mapped = 0
        for n, line in enumerate(text.splitlines(), start=1):
            line = line.strip()
            if not line or line.startswith("#") or line.startswith(("set ", "echo ", "#!")):
                continue
            try:
                words = shlex.split(line)
            except ValueError:
                words = []
            if words and words[0] in ("awslocal", "aws") and _command(words, declared):
                mapped += 1
            else:
                m.warn(("volumes", index), f"{svc.relative(path)}:{n}: not run ({line[:60]})")
        if mapped:
            m.mapped(("volumes", index), f"{svc.relative(path)}: {mapped} awslocal command(s) → buckets, queues, "
                     "topics")
    table: dict[str, Any] = {}
    for key, items in declared.items():
        if items:
            table[key] = [t if not isinstance(t, dict) or t["subscriptions"] else t["name"] for t in items] \
                if key == "topics" else list(dict.fromkeys(items))
    region = m.take(svc, ("AWS_DEFAULT_REGION", "DEFAULT_REGION", "AWS_REGION"))
    if region:
        table["region"] = next(iter(region.values()))
        m.mapped(("environment",), f"{', '.join(region)} → region = {table['region']!r}")
    services = m.take(svc, ("SERVICES",)).get("SERVICES")
    if services:
        m.mapped(("environment", "SERVICES"), f"SERVICES={services}: moto serves S3, SQS, SNS and its other "
                 "services; only buckets, queues and topics are declared")
    for var in ("DEBUG", "DOCKER_HOST", "LAMBDA_EXECUTOR", "PERSISTENCE", "EDGE_PORT", "HOSTNAME_EXTERNAL",
                "LOCALSTACK_HOST", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        if var in svc.environment:
            m.used_env.add(var)
            m.dropped(("environment", var), f"{var}: not used by moto")
    for v in svc.volumes:
        if v.index not in m.used_volumes and ("docker.sock" in v.target or v.target.startswith("/var/lib/localstack")
                                              or v.target.startswith("/tmp/localstack")):
            m.used_volumes.add(v.index)
            m.dropped(("volumes", v.index), f"{v.target}: " + ("Lambda containers are not run" if "docker.sock"
                                                                in v.target else "state — every run starts empty"))
    image = svc.image
    if image is not None and image.repository == "localstack/localstack":
        m.mapped(("image",), "LocalStack → moto in server mode (the tag is LocalStack's version, not moto's)")
    m.table = table
    m.version = image.version if image is not None and image.repository == "motoserver/moto" else None
    return m


IMAGE = ComposeImage(
    images=("localstack/localstack", "motoserver/moto"),
    ports={4566: "port", 5000: "port"},
    map=to_stack,
    summary="moto in server mode; `awslocal` commands of mounted ready-hook scripts → `buckets`, `queues`, "
            "`topics`; `AWS_DEFAULT_REGION` → `region`",
)
