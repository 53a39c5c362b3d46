"""One run of a stack: start, supervise, record, control, stop.

:class:`StackRunner` owns a run; its :class:`RunRecord` (``state.json``) is what every other
process reads to attach; the control channel lets any of them stop, start or restart a service.
Imported lazily: the quick commands read records without loading the runner.
"""

from .._lazy import lazy_exports

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._control import ControlServer as ControlServer, control_call as control_call
    from ._current import (
        clear_current as clear_current,
        current_path as current_path,
        latest_run as latest_run,
        read_current as read_current,
        stop_owner as stop_owner,
        write_current as write_current,
    )
    from ._external import ExternalService as ExternalService
    from ._folders import new_run_id as new_run_id
    from ._record import RunRecord as RunRecord, ServiceInfo as ServiceInfo, pid_alive as pid_alive
    from ._runner import ServiceEvent as ServiceEvent, StackRunner as StackRunner

_EXPORTS = {
    "ControlServer": "._control", "control_call": "._control",
    "clear_current": "._current", "current_path": "._current", "latest_run": "._current",
    "read_current": "._current", "stop_owner": "._current", "write_current": "._current",
    "ExternalService": "._external",
    "RunRecord": "._record", "ServiceInfo": "._record", "pid_alive": "._record",
    "ServiceEvent": "._runner", "StackRunner": "._runner", "new_run_id": "._folders",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
