"""Waiting for a service's instances to pass its readiness probe, and saying why they did not."""

from __future__ import annotations

import threading

from ..errors import ReadinessTimeout, ServiceExited, StackrigError
from ..services import Service
from ..supervisor import tail, wait_ready

__all__ = ["await_ready"]


def await_ready(service: Service, deadline: float, cancelled: threading.Event) -> None:
    """Every instance of `service` ready by `deadline`, or the error that tells the story: the exit
    code or the probe and address waited for, the pid, the log tail, the fix."""
    probe = service.probe()
    if probe is None:
        return
    for inst in service.instances:
        assert probe is not None
        ok, code = wait_ready(probe, inst.target, deadline=deadline, exited=inst.process.poll,
                              cancelled=cancelled.is_set)
        if ok or (code == 0 and service.ready_on_exit()):
            probe = service.probe()  # fresh state (log offsets) for the next replica
            continue
        if cancelled.is_set():
            raise StackrigError("cancelled")
        where = f" on {inst.target.host}:{inst.target.port}" if inst.target.port else ""
        log = inst.process.log_path
        if code is not None:
            raise ServiceExited(
                f"service '{service.name}' exited with code {code} while starting "
                f"(before {probe.describe()}{where})",
                service=service.name, returncode=code, log_path=log, log_tail=tail(log),
                hint=f"see the log above; the command was: {' '.join(inst.process.argv)}",
            )
        raise ReadinessTimeout(
            f"service '{service.name}' was not ready after {service.spec.start_timeout:g} s: "
            f"waited for {probe.describe()}{where}; the process is still running (pid {inst.process.pid})",
            service=service.name, log_path=log, log_tail=tail(log),
            hint="fix the readiness probe (`ready = ...`) or raise `start_timeout` for this service",
        )
