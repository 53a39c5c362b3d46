"""stackrig: integration-test stacks as real local processes.

Declare services in ``stackrig.toml``; bring them up fast with free ports,
readiness probes and captured logs; use them from tests through the ``rig``
fixture or this library::

    from stackrig import Stack

    with Stack.load("stackrig.toml") as rig:
        rig.http("api").get("/health")

The public names are listed once, in ``_EXPORTS`` (name -> module); ``__all__`` is derived from
it and imports are lazy (PEP 562), so the server processes stackrig starts
(``python -m stackrig.stub``, ``.faults``, ``.mail``) and the quick commands load only what they use.
"""

from ._lazy import lazy_exports

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .config import StackFile as StackFile
    from .errors import (
        ConfigError as ConfigError,
        InitFailed as InitFailed,
        IsolationError as IsolationError,
        PortInUse as PortInUse,
        ProviderNotFound as ProviderNotFound,
        ReadinessTimeout as ReadinessTimeout,
        ServiceError as ServiceError,
        ServiceExited as ServiceExited,
        ServiceNotFound as ServiceNotFound,
        StackNotRunning as StackNotRunning,
        StackrigError as StackrigError,
    )
    from .rig import Rig as Rig, ServiceHandle as ServiceHandle, Stack as Stack
    from .run import RunRecord as RunRecord, ServiceEvent as ServiceEvent, ServiceInfo as ServiceInfo
    from .services import ServiceKind as ServiceKind, load_stack as load_stack

_EXPORTS = {
    "Stack": ".rig",
    "Rig": ".rig",
    "ServiceHandle": ".rig",
    "RunRecord": ".run",
    "ServiceInfo": ".run",
    "ServiceEvent": ".run",
    "StackFile": ".config",
    "load_stack": ".services",
    "ServiceKind": ".services",
    "StackrigError": ".errors",
    "ConfigError": ".errors",
    "ProviderNotFound": ".errors",
    "PortInUse": ".errors",
    "ServiceError": ".errors",
    "ServiceExited": ".errors",
    "ReadinessTimeout": ".errors",
    "InitFailed": ".errors",
    "StackNotRunning": ".errors",
    "ServiceNotFound": ".errors",
    "IsolationError": ".errors",
}

__version__ = "0.2.0"
__all__ = [*sorted(_EXPORTS), "__version__"]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
