"""`kind = "aws"`: moto in server mode (S3, SQS, SNS) with the stack file's buckets, queues and topics.

Taps on SNS topics, SQS queues to peek at, and a per-test reset whose noop costs one HTTP GET.
Keys and behaviour: docs/kinds/aws.md.
"""

from typing import Any

from ...services import ServiceKind
from ._client import connect_events, connect_queues
from ._reset import make_reset
from ._service import MOTO, AwsService
from ._spec import AwsSpec

__all__ = ["KIND", "MOTO", "AwsService", "AwsSpec"]


def _compose() -> Any:
    """The images this kind runs for a compose file (docs/compose.md): ``_compose.py``."""
    from ._compose import IMAGE

    return IMAGE


KIND = ServiceKind(
    name="aws",
    spec=AwsSpec,
    service=AwsService,
    summary="moto in server mode (S3, SQS, SNS) from the moto[server] wheel; buckets, queues and topics "
            "created at start and reset after each test",
    clients={"events": connect_events, "queues": connect_queues},
    reset=make_reset,
    python_modules={"boto3": "taps, rig.publish(), rig.queue() and the per-test reset"},
    docs="docs/kinds/aws.md",
    compose=_compose,
)
