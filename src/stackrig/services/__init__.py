"""What a service kind implements, and the registry that finds the kinds.

Write a kind in one folder (see ``docs/kinds.md``)::

    from stackrig.config import ServerSpec
    from stackrig.services import BinarySpec, Service, ServiceKind

    class MemcachedSpec(ServerSpec):
        memory_mb: int = 64

    class Memcached(Service):
        binary_spec = BinarySpec(name="memcached", executables=("memcached",),
                                 install={"apt": "memcached", "brew": "memcached"})

        def prepare(self, deadline: float) -> None:
            self.find_binary()

        def launch(self) -> None:
            assert self.binary and self.port
            self.spawn([str(self.binary.exe), "-l", self.host, "-p", str(self.port)],
                       self.base_env(), self.ctx.stack_root, self.port)

    KIND = ServiceKind(name="memcached", spec=MemcachedSpec, service=Memcached,
                       summary="memcached, from the system")

and name it in the package's metadata::

    [project.entry-points."stackrig.kinds"]
    memcached = "my_package.memcached:KIND"
"""

from .._lazy import lazy_exports

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._kind import (
        ClientFactory as ClientFactory,
        Endpoint as Endpoint,
        ResetFactory as ResetFactory,
        ServiceKind as ServiceKind,
        Slice as Slice,
        Slicer as Slicer,
        TestReset as TestReset,
    )
    from ._providers import (
        Binary as Binary,
        BinarySpec as BinarySpec,
        Wheel as Wheel,
        binary_version as binary_version,
        candidates as candidates,
        find_binary as find_binary,
        provider_order as provider_order,
        script_interpreter as script_interpreter,
    )
    from ._registry import (
        BUILTIN_KINDS as BUILTIN_KINDS,
        ENTRY_POINT_GROUP as ENTRY_POINT_GROUP,
        KindRegistry as KindRegistry,
        load_stack as load_stack,
        registry as registry,
        reset_registry as reset_registry,
    )
    from ._runtimes import BROWSERS as BROWSERS, RUNTIMES as RUNTIMES, write_shims as write_shims
    from ._service import (
        Instance as Instance,
        RunContext as RunContext,
        Service as Service,
        ServiceFactory as ServiceFactory,
    )

_EXPORTS = {
    "ClientFactory": "._kind", "Endpoint": "._kind", "ResetFactory": "._kind", "ServiceKind": "._kind",
    "Slice": "._kind", "Slicer": "._kind", "TestReset": "._kind",
    "Binary": "._providers", "BinarySpec": "._providers", "Wheel": "._providers", "binary_version": "._providers",
    "candidates": "._providers", "find_binary": "._providers", "provider_order": "._providers",
    "script_interpreter": "._providers",
    "BUILTIN_KINDS": "._registry", "ENTRY_POINT_GROUP": "._registry", "KindRegistry": "._registry",
    "load_stack": "._registry", "registry": "._registry", "reset_registry": "._registry",
    "RUNTIMES": "._runtimes", "BROWSERS": "._runtimes", "write_shims": "._runtimes",
    "Instance": "._service", "RunContext": "._service", "Service": "._service", "ServiceFactory": "._service",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
