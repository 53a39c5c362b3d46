"""Supervision: one process and its tree, readiness probes, the watchdog, free ports.

Nothing here knows a service kind: a kind's service launches :class:`ManagedProcess`
instances, names its readiness :class:`Probe`, and the run registers their groups with
the run's :class:`Watchdog`.
"""

from ._ports import PortLease, allocate_port, claim_port
from ._probes import (
    AllOf,
    CommandProbe,
    HttpProbe,
    LogProbe,
    Probe,
    ProbeTarget,
    TcpProbe,
    WebSocketProbe,
    wait_ready,
)
from ._process import ManagedProcess, descendants, tail
from ._users import ProcessUser, unprivileged_user
from ._watchdog import MARKER_ENV, Watchdog, sweep_marked

__all__ = [
    "MARKER_ENV",
    "AllOf",
    "CommandProbe",
    "HttpProbe",
    "LogProbe",
    "ManagedProcess",
    "PortLease",
    "Probe",
    "ProbeTarget",
    "ProcessUser",
    "TcpProbe",
    "Watchdog",
    "WebSocketProbe",
    "allocate_port",
    "claim_port",
    "descendants",
    "sweep_marked",
    "tail",
    "unprivileged_user",
    "wait_ready",
]
