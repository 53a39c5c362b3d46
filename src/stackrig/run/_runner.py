"""Bring a whole stack up and down: ports, parallel start in dependency order, readiness, teardown.

How a service gets from the stack file to a ready process:

1. `load_stack` validated its table into a spec (config layer);
2. the runner makes a `Service` for it and allocates its port(s) up front, so
   every `${svc.port}` / `${svc.url}` is known before anything starts;
3. a thread per service waits for its `depends_on` to be ready, then runs
   `prepare()` (binary discovery, cached data dirs), `launch()` (a
   `ManagedProcess` in its own session, registered with the watchdog) and the
   readiness probe under the service's one deadline (`start_timeout`),
   failing at once if the process exits;
4. `after_ready()`; the service is ready and its dependents start.

Any failure cancels the rest and tears down what started, dependents first.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._paths import data_root, runtime_root, socket_root
from ..config import StackFile
from ..errors import StackrigError
from ..services import RunContext, Service, Slice, registry
from ..supervisor import (
    Watchdog,
    allocate_port,
    claim_port,
    sweep_marked,
    unprivileged_user,
)
from ._control import ControlServer
from ._external import ExternalService
from ._faults import FaultProxy
from ._folders import new_run_id, prune_runs
from ._ready import await_ready
from ._record import RunRecord, ServiceInfo

__all__ = ["StackRunner", "ServiceEvent"]


@dataclass(frozen=True)
class ServiceEvent:
    """Progress of one service: waiting, starting, ready, failed, skipped, stopping, stopped."""

    service: str
    state: str
    elapsed_ms: float = 0.0
    detail: str = ""


def _closure(stack: StackFile, names: set[str]) -> set[str]:
    """`names` and everything they depend on."""
    todo, seen = list(names), set()
    while todo:
        name = todo.pop()
        if name in seen or name not in stack.services:
            continue
        seen.add(name)
        todo.extend(stack.services[name].depends_on)
    return seen


class StackRunner:
    """Runs one stack once: `up()` then `down()` (also usable as a context manager)."""

    def __init__(self, stack: StackFile, *, on_event: Callable[[ServiceEvent], None] | None = None,
                 run_id: str | None = None, only: set[str] | None = None,
                 external: dict[str, tuple[ServiceInfo, Slice]] | None = None, faults: bool = True) -> None:
        """`only`: run just these services (and what they depend on); `external`: services someone
        else runs, by name -> (their record, this run's slice of it)."""
        self.stack = stack
        self.only = _closure(stack, only) if only is not None else None
        self.external = external or {}
        self.faults_enabled = faults  # False: nobody here would connect through the proxy
        self.fault_proxy: FaultProxy | None = None
        self.faults_api = ""
        self.run_id = run_id or new_run_id()
        self.on_event = on_event or (lambda e: None)
        self.project_dir = stack.root
        self.run_dir = runtime_root(self.project_dir) / "runs" / self.run_id
        self.record: RunRecord | None = None
        self.ctx: RunContext | None = None
        self.services: dict[str, Service] = {}
        self.control: ControlServer | None = None
        self._background: threading.Thread | None = None
        self._torn_down = False
        self._t_start = time.monotonic()
        self._ops = threading.Lock()
        self.coverage: list[Any] = []  # ServiceCoverage of each measured service, once down() finished
        self._coverage_session: Any = None  # the coverage session this run owns (none when inherited)
        # control operations higher layers add (the rig's "reset"): op -> handler(request) -> reply
        self.control_ops: dict[str, Callable[[dict[str, object]], dict[str, object]]] = {}

    @property
    def state_path(self) -> Path:
        return self.run_dir / "state.json"

    def _emit(self, name: str, state: str, t0: float | None = None, detail: str = "") -> None:
        elapsed = (time.monotonic() - t0) * 1000 if t0 is not None else 0.0
        try:
            self.on_event(ServiceEvent(name, state, elapsed, detail))
        except Exception as exc:  # a broken progress display must not break the run, nor go unheard
            if self.ctx is not None and not getattr(self, "_display_failed", False):
                self._display_failed = True
                self.ctx.warn(f"the progress display failed and was turned off: {type(exc).__name__}: {exc}")

    # -- up -------------------------------------------------------------------
    def _services_to_run(self, ctx: RunContext) -> dict[str, Service]:
        kinds = registry()
        services: dict[str, Service] = {}
        for name, spec in self.stack.services.items():
            if self.only is not None and name not in self.only:
                continue
            if name in self.external:
                info, share = self.external[name]
                services[name] = ExternalService(spec, ctx, info, share)
            else:
                services[name] = kinds.get(spec.kind).service(spec, ctx)
        return services

    def _server_user(self) -> Any:
        """The unprivileged account, when running as root and a server here refuses root."""
        kinds = registry()
        accounts: list[str] = []
        for name, spec in self.stack.services.items():
            if name in self.external or (self.only is not None and name not in self.only):
                continue
            binary = kinds.get(spec.kind).binary
            if binary is not None and binary.refuses_root:
                accounts.extend(a for a in binary.accounts if a not in accounts)
                break
        else:
            return None
        return unprivileged_user(accounts)

    def up(self) -> RunRecord:
        """Start every service, in dependency order and in parallel; return the run's record.

        From the moment the watchdog starts, everything is under the teardown guard: whatever
        fails (a service, the fault proxy, the control socket, writing the record), all that
        started is stopped before the error reaches the caller."""
        t_start = self._t_start = time.monotonic()
        logs = self.run_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        data = data_root(self.stack.settings.data_dir, self.project_dir) / self.run_id
        data.mkdir(parents=True, exist_ok=True)
        sockets = socket_root() / self.run_id
        sockets.mkdir(parents=True, exist_ok=True)
        user = self._server_user()
        if user is not None:
            os.chown(data, user.uid, user.gid)
            os.chmod(logs, 0o777)
        self.ctx = ctx = RunContext(self.run_id, self.stack.root, self.stack.path, logs, data, sockets,
                                    Watchdog(self.run_id, data_dir=str(data), folders=[str(sockets)]), user,
                                    settings=self.stack.settings)
        for warning in self.stack.warnings:  # said with the run's own (the CLI's output, pytest's summary)
            ctx.warn(warning)
        try:
            self._start_coverage()
            self.services = self._services_to_run(ctx)
            ctx.services = self.services
            for service in self.services.values():
                fixed = service.fixed_port()
                for _ in range(service.wants_ports()):
                    service.leases.append(claim_port(fixed, service=service.name) if fixed and not service.leases
                                          else allocate_port())
            self._start_fault_proxy()
            # the control socket is opened while the services start: nobody can know of it
            # before the record that names it is saved
            self._start_all(meanwhile=self._open_control)
            self.record = self._make_record((time.monotonic() - t_start) * 1000)
            self.record.save(self.state_path)
        except BaseException:
            self.down()
            raise
        self._background = threading.Thread(target=self._background_work, name="stackrig-background",
                                            daemon=True)
        self._background.start()
        return self.record

    def _open_control(self) -> None:
        assert self.ctx is not None
        self.control = ControlServer(self.ctx.socket_dir / "control.sock", self._control)

    def _start_coverage(self) -> None:
        """A coverage session when a service here is measured and no outer process runs one."""
        wanted = [n for n, s in self.stack.services.items() if s.measures_coverage()
                  and n not in self.external and (self.only is None or n in self.only)]
        if not wanted:
            return
        from ..coverage import CoverageSession  # coverage.py only when a service is measured

        if CoverageSession.current() is None:
            self._coverage_session = CoverageSession.start(self.project_dir)

    def _finish_coverage(self) -> None:
        session, self._coverage_session = self._coverage_session, None
        if session is None:
            return
        assert self.ctx is not None
        try:
            self.coverage = session.finish()
        except Exception as exc:  # noqa: BLE001 - a warning of the run, the tests' result stands
            self.ctx.warn(f"combining the coverage of the services failed: {type(exc).__name__}: {exc}")

    def _background_work(self) -> None:
        """Work for later runs (old runs' folders pruned, PostgreSQL's next spare cluster); a failure
        is a warning of the run."""
        assert self.ctx is not None
        prune_runs(self.run_dir.parent)
        for service in list(self.services.values()):
            if self._torn_down:
                return
            try:
                service.background()
            except Exception as exc:  # noqa: BLE001 - never fails the run, never goes unheard
                self.ctx.warn(f"service '{service.name}': background work failed (the next run will be "
                              f"slower, nothing else is affected): {type(exc).__name__}: {exc}")
                self._refresh()

    def _faulted(self) -> list[Service]:
        if not self.faults_enabled:
            return []
        chosen = []
        for service in self.services.values():
            wanted = service.spec.faults if service.spec.faults is not None else self.stack.settings.faults
            if wanted and service.port is not None:
                chosen.append(service)
        return chosen

    def _start_fault_proxy(self) -> None:
        """One fault proxy process for the run, in front of every service that asks for it."""
        assert self.ctx is not None
        faulted = self._faulted()
        if not faulted:
            return
        t0 = time.monotonic()
        self._emit("faults", "starting", t0)
        self.fault_proxy = FaultProxy(self.ctx, self.stack.root)
        self.faults_api = self.fault_proxy.start(faulted)
        self._emit("faults", "ready", t0, self.faults_api)

    def _start_all(self, meanwhile: Callable[[], object] | None = None) -> None:
        """Start every service on its own thread; `meanwhile` runs on this one as they start."""
        assert self.ctx is not None
        ctx = self.ctx
        ready = {name: threading.Event() for name in self.services}
        failed: dict[str, BaseException] = {}
        done = threading.Event()

        def worker(service: Service) -> None:
            t0 = time.monotonic()
            try:
                deps = service.spec.depends_on
                if deps:
                    self._emit(service.name, "waiting", t0, ", ".join(deps))
                for dep in deps:
                    while not ready[dep].wait(0.05):
                        if ctx.cancelled.is_set():
                            self._emit(service.name, "skipped", t0, f"'{dep}' did not start")
                            return
                t0 = time.monotonic()
                service.start_ms = (t0 - self._t_start) * 1000
                deadline = t0 + service.spec.start_timeout
                self._emit(service.name, "starting", t0)
                service.prepare(deadline)
                deadline += service.build_seconds  # a build is not start-up: its own timeout applies
                if ctx.cancelled.is_set():
                    self._emit(service.name, "skipped", t0)
                    return
                service.launch()
                self._await_ready(service, deadline)
                service.after_ready(deadline)
                service.ready_ms = (time.monotonic() - t0) * 1000
                ready[service.name].set()
                self._emit(service.name, "ready", t0, service.url)
            except BaseException as exc:  # noqa: BLE001 - reported to the main thread
                if not ctx.cancelled.is_set():
                    failed[service.name] = exc
                    ctx.cancelled.set()
                    self._emit(service.name, "failed", t0, str(exc).splitlines()[0])
                else:
                    self._emit(service.name, "skipped", t0)
            finally:
                if all(e.is_set() for e in ready.values()):
                    done.set()

        threads = [threading.Thread(target=worker, args=(s,), name=f"stackrig-{s.name}", daemon=True)
                   for s in self.services.values()]
        for t in threads:
            t.start()
        try:
            if meanwhile is not None:
                meanwhile()
            while any(t.is_alive() for t in threads):
                for t in threads:
                    t.join(0.05)
        except BaseException:
            ctx.cancelled.set()
            for t in threads:
                t.join(10)
            raise
        if failed:
            # report the first failure in start order
            first = next(n for n in self.services if n in failed)
            raise failed[first]

    def _await_ready(self, service: Service, deadline: float) -> None:
        assert self.ctx is not None
        await_ready(service, deadline, self.ctx.cancelled)

    def _make_record(self, ready_ms: float) -> RunRecord:
        assert self.ctx is not None
        infos: list[ServiceInfo] = []
        env: dict[str, str] = {}
        for s in self.services.values():
            exports = s.exports()
            env.update(exports)
            infos.append(ServiceInfo(
                name=s.name, kind=s.kind, url=s.url_for(s.public_port), host=s.host, port=s.public_port,
                ports=s.ports, pids=s.pids,
                ready_ms=round(s.ready_ms, 1) if s.ready_ms is not None else None,
                log=str(s.log_path()), source=s.describe_source(), version=s.describe_version(),
                attributes=s.attributes(), exports=exports, proxied=s.public is not None,
                start_ms=round(s.start_ms, 1) if s.start_ms is not None else None,
                depends_on=list(s.spec.depends_on)))
        from ..services import write_shims

        shims = write_shims(self.ctx.runtimes_found(), self.run_dir / "bin")
        return RunRecord(
            run_id=self.run_id, stack_file=str(self.stack.path), digest=self.stack.digest, owner_pid=os.getpid(),
            watchdog_pid=self.ctx.watchdog.pid, started_at=time.time(), ready_ms=round(ready_ms, 1),
            services=infos, env=env, logs_dir=str(self.ctx.logs_dir), data_dir=str(self.ctx.data_dir),
            control=str(self.control.path) if self.control else "", faults_api=self.faults_api,
            warnings=list(self.ctx.warnings), runtime_bin=str(shims or ""))

    # -- one service at a time (tests take services down and bring them back) ----
    def _service(self, name: str) -> Service:
        if name not in self.services:
            from ..errors import ServiceNotFound

            raise ServiceNotFound(f"no service named '{name}' in this stack; services: {', '.join(self.services)}",
                                  service=name, available=list(self.services))
        return self.services[name]

    def stop_service(self, name: str) -> None:
        """Stop one service (its dependents keep running and see it gone)."""
        with self._ops:
            service = self._service(name)
            service.stop()
            service.instances.clear()
            self._refresh()

    def start_service(self, name: str) -> None:
        """Start a stopped service again on the same ports and data, and wait until it is ready."""
        with self._ops:
            service = self._service(name)
            if any(i.process.alive() for i in service.instances):
                return
            service.instances.clear()
            t0 = time.monotonic()
            deadline = t0 + service.spec.start_timeout
            cancelled = self.ctx.cancelled if self.ctx else None
            if cancelled is not None:
                cancelled.clear()
            service.launch()
            self._await_ready(service, deadline)
            service.after_ready(deadline)
            service.ready_ms = (time.monotonic() - t0) * 1000
            self._refresh()

    def restart_service(self, name: str) -> None:
        self.stop_service(name)
        self.start_service(name)

    def _refresh(self) -> None:
        if self.record is None or self._torn_down:
            return
        fresh = self._make_record(self.record.ready_ms)
        fresh.started_at = self.record.started_at
        self.record = fresh
        try:
            fresh.save(self.state_path)
        except OSError as exc:
            assert self.ctx is not None
            self.ctx.warn(f"could not update the run record {self.state_path}: {exc}")

    def _control(self, request: dict[str, object]) -> dict[str, object]:
        op = request.get("op")
        name = str(request.get("service", ""))
        if op == "ping":
            return {"ok": True}
        if isinstance(op, str) and op in self.control_ops:
            return self.control_ops[op](request)
        actions = {"stop": self.stop_service, "start": self.start_service, "restart": self.restart_service}
        if op not in actions:
            known = ["ping", *actions, *self.control_ops]
            raise StackrigError(f"unknown control operation {op!r}; expected one of {', '.join(known)}")
        actions[str(op)](name)
        assert self.record is not None
        info = self.record.service(name)
        return {"ok": True, "service": info.__dict__ if info else None}

    # -- down -----------------------------------------------------------------
    def down(self) -> None:
        """Stop everything this run started, dependents first (independent services in parallel);
        idempotent."""
        if self._torn_down or self.ctx is None:
            return
        self._torn_down = True
        ctx = self.ctx
        ctx.cancelled.set()
        if self.control is not None:
            self.control.close()
        errors = self._stop_all(final=not self.stack.settings.keep_data)
        if self.fault_proxy is not None:
            self.fault_proxy.stop()
        sweep_marked(self.run_id)
        for service in self.services.values():
            service.release_ports()
            if service.public is not None:
                service.public.release()
        shutil.rmtree(ctx.socket_dir, ignore_errors=True)
        if not self.stack.settings.keep_data:
            shutil.rmtree(ctx.data_dir, ignore_errors=True)  # while background copies finish
        if self._background is not None:
            self._background.join(60)
        for service in self.services.values():  # nothing of the run outlives it, not even a copy
            try:
                service.settle()
            except Exception as exc:  # noqa: BLE001 - a warning, not a failed teardown
                ctx.warn(f"service '{service.name}': finishing its background work failed: "
                         f"{type(exc).__name__}: {exc}")
        ctx.watchdog.close()
        self._finish_coverage()
        if errors:
            raise errors[0]

    def _stop_all(self, final: bool) -> list[BaseException]:
        """Each service stops once everything that depends on it has stopped; the rest in parallel."""
        running = [name for name, s in self.services.items() if s.instances]
        stopped = {name: threading.Event() for name in self.services}
        for name in self.services:
            if name not in running:
                stopped[name].set()
        errors: list[BaseException] = []

        def stop(name: str) -> None:
            service = self.services[name]
            try:
                for dependent in self.stack.dependents(name):
                    if dependent in stopped:
                        stopped[dependent].wait()
                t0 = time.monotonic()
                self._emit(name, "stopping", t0)
                service.stop(final=final)
                self._emit(name, "stopped", t0)
            except BaseException as exc:  # noqa: BLE001 - keep stopping the others
                errors.append(exc)
            finally:
                stopped[name].set()

        if len(running) == 1:
            stop(running[0])
            return errors
        threads = [threading.Thread(target=stop, args=(n,), name=f"stackrig-stop-{n}", daemon=True)
                   for n in reversed(running)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return errors

    def __enter__(self) -> RunRecord:
        return self.up()

    def __exit__(self, *exc: object) -> None:
        self.down()
