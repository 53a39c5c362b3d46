"""stackrig: integration-test stacks as real local processes.

Declare services in ``stackrig.toml``; bring them up fast with free ports,
readiness probes and captured logs; use them from tests through the ``rig``
fixture or this library::

    from stackrig import Stack

    with Stack.load("stackrig.toml") as rig:
        rig.http("api").get("/health")
"""

from typing import TYPE_CHECKING

from ._lazy import lazy_exports

# Names are imported on first use (PEP 562), so the server processes stackrig starts
# (`python -m stackrig.stub`, `.faults`, `.mail`) do not pay for pydantic, rich, click, ...
_EXPORTS = {
    "RunRecord": "._record",
    "ServiceInfo": "._record",
    "Rig": "._rig",
    "ServiceHandle": "._rig",
    "ServiceEvent": "._runner",
    "Stack": "._stack",
    "StackFile": ".config",
    "load_stack": ".config",
    "ConfigError": ".errors",
    "InitFailed": ".errors",
    "IsolationError": ".errors",
    "PortInUse": ".errors",
    "ProviderNotFound": ".errors",
    "ReadinessTimeout": ".errors",
    "ServiceError": ".errors",
    "ServiceExited": ".errors",
    "StackNotRunning": ".errors",
    "StackrigError": ".errors",
}

if TYPE_CHECKING:
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


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())

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
