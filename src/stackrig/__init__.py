"""stackrig: integration-test stacks as real local processes.

Declare services in ``stackrig.toml``; bring them up fast with free ports,
readiness probes and captured logs; use them from tests through the ``rig``
fixture or this library::

    from stackrig import Stack

    with Stack.load("stackrig.toml") as rig:
        rig.http("api").get("/health")
"""

from ._record import RunRecord, ServiceInfo
from ._rig import Rig, ServiceHandle
from ._runner import ServiceEvent
from ._stack import Stack
from .config import StackFile, load_stack
from .errors import (
    ConfigError,
    InitFailed,
    IsolationError,
    PortInUse,
    ProviderNotFound,
    ReadinessTimeout,
    ServiceError,
    ServiceExited,
    StackNotRunning,
    StackrigError,
)

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "InitFailed",
    "IsolationError",
    "PortInUse",
    "ProviderNotFound",
    "ReadinessTimeout",
    "Rig",
    "RunRecord",
    "ServiceError",
    "ServiceEvent",
    "ServiceExited",
    "ServiceHandle",
    "ServiceInfo",
    "Stack",
    "StackFile",
    "StackNotRunning",
    "StackrigError",
    "load_stack",
    "__version__",
]
