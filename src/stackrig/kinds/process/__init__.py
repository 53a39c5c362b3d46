"""`kind = "process"`: any command — the app under test, in any language, with replicas.

Keys: docs/stack-file.md#process.
"""

from ...services import ServiceKind
from ._service import ProcessService
from ._spec import ProcessSpec

__all__ = ["KIND", "ProcessService", "ProcessSpec"]

KIND = ServiceKind(
    name="process",
    spec=ProcessSpec,
    service=ProcessService,
    summary="any command: the app under test in any language (${python}, ${node}, ${go}), with replicas",
    docs="docs/stack-file.md#kind--process",
)
