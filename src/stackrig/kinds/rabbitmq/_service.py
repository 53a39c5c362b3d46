"""`kind = "rabbitmq"`: a RabbitMQ node from a cached, prepared Mnesia folder, booted directly.

See `_node` for why the node boots 2–4× faster than ``rabbitmq-server`` and `_helper` for the
control helper inside it.  Processes of a run: ``epmd -port N`` (its own, on an allocated port)
and the VM (``beam.smp``, with its ``erl_child_setup`` and, when it resolves names,
``inet_gethost``), both through `Service.spawn`, so the run's watchdog and environment marker
cover them and everything they fork.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import signal
import socket
import time
from pathlib import Path
from typing import ClassVar
from urllib.parse import quote

from ...errors import ServiceError, ServiceExited
from ...services import Binary, BinarySpec, RunContext, Service
from ...supervisor import ManagedProcess, Probe, ProbeTarget, TcpProbe, allocate_port, wait_ready
from . import _definitions as defs
from ._cache import copy_tree, locked, publish, scratch
from ._helper import compile_helper, new_token
from ._install import HOME_GLOBS, RabbitInstall, find_install
from ._node import (
    NODE_NAME,
    NodeLayout,
    NodeOptions,
    NodePorts,
    app_closure,
    argv,
    build_failed,
    env,
    graceful_stop,
    lib_dir,
    node_key,
)
from ._spec import RabbitSpec

__all__ = ["AmqpProbe", "RABBITMQ", "RabbitService", "VERSION_EVAL"]

# `stackrig doctor` reads a kind's version by running its executable.  RabbitMQ has no cheap
# `--version` (see `_install`), so the executable named here is the Erlang VM the kind runs, asked
# for the version of the RabbitMQ installation it would run; the service itself finds the
# installation without running anything (`_install.find_install`).
VERSION_EVAL = (
    'Hs = case os:getenv("RABBITMQ_HOME") of false -> []; H -> [H] end ++ '
    "lists:append([lists:reverse(lists:sort(filelib:wildcard(G))) || G <- ["
    + ",".join(f'"{g}"' for g in HOME_GLOBS) + "]]), "
    'As = lists:append([lists:reverse(lists:sort(filelib:wildcard(D ++ "/plugins/rabbit-*/ebin/rabbit.app"))) '
    "|| D <- Hs]), "
    "case As of [A | _] -> {ok, [{application, rabbit, Ps}]} = file:consult(A), "
    'io:format("rabbitmq ~s (~s)~n", [proplists:get_value(vsn, Ps), A]), halt(0); '
    '[] -> io:format("no RabbitMQ installation~n"), halt(1) end.'
)
RABBITMQ = BinarySpec(
    name="rabbitmq", executables=("erl",),
    system_dirs=("/usr/lib/erlang/bin", "/opt/homebrew/opt/erlang/bin", "/usr/local/opt/erlang/bin",
                 "/opt/homebrew/bin", "/usr/local/bin", "/usr/bin"),
    install={"apt": "rabbitmq-server", "brew": "rabbitmq"},
    version_args=("-noshell", "-boot", "start_clean", "-eval", VERSION_EVAL),
    version_pattern=r"rabbitmq (\d+\.\d+\.\d+\S*)",
)


class AmqpProbe:
    """Ready when the node answers an AMQP 0-9-1 protocol header with ``connection.start``."""

    def describe(self) -> str:
        return "an AMQP 0-9-1 handshake (connection.start)"

    def check(self, target: ProbeTarget) -> bool:
        if target.port is None:
            return False
        try:
            with socket.create_connection((target.host, target.port), timeout=0.5) as sock:
                sock.settimeout(2.0)
                sock.sendall(b"AMQP\x00\x00\x09\x01")
                data = b""
                while len(data) < 11:
                    chunk = sock.recv(64)
                    if not chunk:
                        return False
                    data += chunk
        except OSError:
            return False
        # frame type 1 (method), channel 0, then class 10 (connection) method 10 (start)
        return data[0] == 1 and data[1:3] == b"\x00\x00" and data[7:11] == b"\x00\x0a\x00\x0a"


class _NodeProbe:
    """The VM: AMQP (and the management port when on); epmd: a TCP connection."""

    def __init__(self, vm: Probe, epmd_port: int, management_port: int | None) -> None:
        self.vm = vm
        self.epmd_port = epmd_port
        self.management_port = management_port
        self._tcp = TcpProbe()

    def describe(self) -> str:
        extra = f" and a TCP connection to the management port {self.management_port}" \
            if self.management_port else ""
        return self.vm.describe() + extra

    def check(self, target: ProbeTarget) -> bool:
        if target.port == self.epmd_port:
            return self._tcp.check(target)
        if not self.vm.check(target):
            return False
        if self.management_port:
            return self._tcp.check(ProbeTarget(target.host, self.management_port, target.log_path))
        return True


class RabbitService(Service):
    binary_spec: ClassVar[BinarySpec | None] = RABBITMQ
    spec: RabbitSpec

    def __init__(self, spec: RabbitSpec, ctx: RunContext) -> None:
        super().__init__(spec, ctx)
        self.install: RabbitInstall | None = None
        self.layout = NodeLayout(ctx.data_dir / spec.name)
        self.token = new_token()
        self.options: NodeOptions | None = None
        self.prepared: Path | None = None

    # -- ports and attributes -------------------------------------------------------------
    def wants_ports(self) -> int:
        return 5 if self.spec.management else 4  # AMQP, distribution, epmd, control (, management)

    @property
    def node_ports(self) -> NodePorts:
        p = self.ports
        return NodePorts(amqp=p[0], dist=p[1], epmd=p[2], control=p[3],
                         management=p[4] if self.spec.management else None)

    def url_for(self, port: int | None) -> str:
        if not port:
            return ""
        auth = f"{quote(self.spec.user, safe='')}:{quote(self.spec.password, safe='')}"
        return f"amqp://{auth}@{self.host}:{port}/{quote(self.spec.vhost, safe='')}"

    def attributes(self, port: int | None = None) -> dict[str, str]:
        attrs = super().attributes(port)
        s = self.spec
        attrs.update(user=s.user, password=s.password, vhost=s.vhost, node=NODE_NAME,
                     tap_exchange=s.default_exchange, management_url="", management_port="")
        if self.leases:
            p = self.node_ports
            attrs.update(amqp_port=str(p.amqp), dist_port=str(p.dist), epmd_port=str(p.epmd),
                         control_port=str(p.control), control_token=self.token, isolation=s.isolation)
            if p.management:
                attrs.update(management_port=str(p.management), management_url=f"http://{self.host}:{p.management}")
        if self.prepared is not None:
            attrs["slice_definitions"] = str(self.prepared / "slice.json")
        if self.install is not None:
            attrs.update(version=str(self.install.version), erlang=self.install.erlang.otp, home=str(self.install.home))
        return attrs

    def default_exports(self) -> dict[str, str]:
        return {"AMQP_URL": "${url}"}

    def log_path(self, index: int = 0) -> Path:
        if index == 1:
            return self.ctx.logs_dir / f"{self.name}.epmd.log"
        return super().log_path(index)

    # -- readiness ----------------------------------------------------------------------------
    def default_probe(self) -> Probe:
        return AmqpProbe()

    def probe(self) -> Probe | None:
        vm = super().probe() or AmqpProbe()
        if not self.leases:
            return vm
        p = self.node_ports
        return _NodeProbe(vm, p.epmd, p.management)

    # -- prepare: installation, code path, helper, the cached node, this run's copy ------------------
    def find_binary(self) -> Binary:
        install = self.install = find_install(service=self.name, version=self.spec.version, path=self.spec.path,
                                              root=self.ctx.stack_root)
        self.binary = Binary("rabbitmq", install.erlang.erlexec, install.version, install.source)
        self.source = f"{install.source} {install.version} ({install.home}, Erlang/OTP {install.erlang.otp})"
        return self.binary

    def _plugins(self) -> list[str]:
        plugins = list(self.spec.plugins)
        if self.spec.management:
            plugins.append("rabbitmq_management")
        return plugins

    def prepare(self, deadline: float) -> None:
        if self.install is None:
            self.find_binary()
        install = self.install
        assert install is not None
        plugins = self._plugins()
        try:
            apps = app_closure(install, ["rabbit", *plugins])
        except ServiceError as exc:
            raise ServiceError(f"service '{self.name}': {exc.message}", service=self.name, hint=exc.hint) from None
        erl = install.erlang
        helper = compile_helper(erl.root, erl.erts, erl.otp, service=self.name, run_id=self.ctx.run_id)
        doc = defs.merged_definitions(self.spec, self.ctx.stack_root, self.ctx.stack_file)
        advanced = self._advanced_config()
        key = node_key(str(install.home), str(install.version), str(erl.erts), erl.otp, ",".join(sorted(plugins)),
                       defs.digest(doc), advanced.read_text() if advanced else "")
        self.options = NodeOptions(install=install, libs=lib_dir(install, apps), helper=helper, apps=sorted(apps),
                                   layout=self.layout, ports=self.node_ports, token=self.token,
                                   trace_vhosts=[self.spec.vhost], plugins=plugins, advanced_config=advanced)
        self.prepared = self._ensure_prepared(key, doc, deadline)
        self.layout.make(new_token())  # the Erlang cookie: its own secret
        copy_tree(self.prepared / "mnesia", self.layout.mnesia)

    def _advanced_config(self) -> Path | None:
        if not self.spec.advanced_config:
            return None
        path = Path(self.spec.advanced_config).expanduser()
        path = path if path.is_absolute() else self.ctx.stack_root / path
        if not path.is_file():
            from ...errors import ConfigError

            raise ConfigError(f"advanced_config file {path} not found", file=self.ctx.stack_file,
                              line=defs.stack_line(self.ctx.stack_file, self.name, "advanced_config"),
                              key=f"services.{self.name}.advanced_config",
                              hint="it is relative to the stack file; it holds Erlang terms ([{rabbit, [...]}].)")
        return path

    def _ensure_prepared(self, key: str, doc: defs.Definitions, deadline: float) -> Path:
        """The cached node for `key` (its Mnesia folder after importing `doc`), built if missing."""
        from ..._paths import cache_dir

        final = cache_dir() / "rabbitmq" / f"node-{key}"
        if (final / "mnesia").is_dir():
            return final
        with locked(final.with_suffix(".lock")):
            if (final / "mnesia").is_dir():
                return final
            work = scratch("node")
            try:
                built = work / "node"
                self._build(built, doc, deadline)
                publish(built, final)
            finally:
                shutil.rmtree(work, ignore_errors=True)
        return final

    def _build(self, built: Path, doc: defs.Definitions, deadline: float) -> None:
        """Boot a node on an empty Mnesia folder importing `doc`, stop it cleanly: the cached node."""
        assert self.options is not None
        layout = NodeLayout(built)
        layout.make(new_token())
        definitions = built / "definitions.json"
        definitions.write_text(json.dumps(doc, indent=1))
        (built / "slice.json").write_text(json.dumps(defs.vhost_definitions(doc, self.spec.vhost)))
        leases = [allocate_port() for _ in range(4)]
        ports = NodePorts(*(lease.port for lease in leases))
        opts = dataclasses.replace(self.options, layout=layout, ports=ports, token=new_token(),
                                   load_definitions=definitions)
        log = self.ctx.logs_dir / f"{self.name}.build.log"
        node_env = env(opts, {}, self.ctx.run_id, self.ctx.logs_dir / f"{self.name}.build.erl_crash.dump")
        procs: list[ManagedProcess] = []
        try:
            epmd = self._start(f"{self.name}-build-epmd", [str(opts.install.erlang.epmd), "-port", str(ports.epmd),
                                                           "-address", "127.0.0.1"], node_env, log, procs)
            self._await_epmd(epmd, ports.epmd, deadline, log)
            vm = self._start(f"{self.name}-build", argv(opts), node_env, log, procs)
            ok, code = wait_ready(AmqpProbe(), ProbeTarget(self.host, ports.amqp, log), deadline=deadline,
                                  exited=vm.poll, cancelled=self.ctx.cancelled.is_set)
            if not ok:
                raise build_failed(self.name, "the RabbitMQ node importing the definitions did not start", log, code)
            graceful_stop(vm, 30.0)
            if not (layout.mnesia / NODE_NAME / "schema.DAT").exists():
                raise build_failed(self.name, "the RabbitMQ node did not write its Mnesia database", log, None)
        finally:
            for proc in reversed(procs):
                proc.stop(5.0, sig=signal.SIGKILL)
                self.ctx.unregister(proc)
            for lease in leases:
                lease.release()
        for leftover in ("rabbit.pid", "home", "log", "enabled_plugins"):
            target = built / leftover
            if target.is_dir():
                shutil.rmtree(target, ignore_errors=True)
            else:
                target.unlink(missing_ok=True)

    def _start(self, name: str, args: list[str], node_env: dict[str, str], log: Path,
               procs: list[ManagedProcess]) -> ManagedProcess:
        proc = ManagedProcess(name, args, env=node_env, cwd=Path("/"), log_path=log)
        with self.ctx.lock:
            proc.start()
            self.ctx.register(proc)
        procs.append(proc)
        return proc

    def _await_epmd(self, proc: ManagedProcess, port: int, deadline: float, log: Path) -> None:
        ok, code = wait_ready(TcpProbe(), ProbeTarget(self.host, port, log), deadline=min(deadline,
                              time.monotonic() + 10), exited=proc.poll, cancelled=self.ctx.cancelled.is_set)
        if not ok:
            raise ServiceExited(f"service '{self.name}': epmd did not listen on 127.0.0.1:{port}",
                                service=self.name, returncode=code, log_path=log, log_tail="",
                                hint="see the epmd log; another epmd on that port?")

    # -- launch and stop -------------------------------------------------------------------------
    def launch(self) -> None:
        assert self.options is not None
        opts = self.options
        node_env = env(opts, {k: self.resolve(str(v), f"env.{k}", self.port) for k, v in self.spec.env.items()},
                       self.ctx.run_id, self.ctx.logs_dir / f"{self.name}.erl_crash.dump")
        p = opts.ports
        epmd = self.spawn([str(opts.install.erlang.epmd), "-port", str(p.epmd), "-address", "127.0.0.1"],
                          node_env, Path("/"), p.epmd, index=1)
        self._await_epmd(epmd.process, p.epmd, time.monotonic() + self.spec.start_timeout, epmd.process.log_path)
        vm = self.spawn(argv(opts), node_env, Path("/"), p.amqp, index=0)
        self.instances = [vm, epmd]  # the VM is the service's pid; epmd stops after it

    def stop_signal(self, final: bool) -> int:
        # At the end of a run the data is discarded: SIGKILL is the same shutdown, at once.  Otherwise
        # (a test stops the broker to start it again) RabbitMQ shuts down cleanly on SIGTERM.
        return signal.SIGKILL if final else signal.SIGTERM

    def stop(self, final: bool = False) -> None:
        for inst in self.instances:
            if inst.port == self.node_ports.epmd:
                inst.process.stop(self.spec.stop_timeout)
            elif final:
                inst.process.stop(self.spec.stop_timeout, sig=signal.SIGKILL)
            else:
                graceful_stop(inst.process, self.spec.stop_timeout)
            self.ctx.unregister(inst.process)
        for name in ("rabbit.pid",):
            (self.layout.root / name).unlink(missing_ok=True)

    def describe_version(self) -> str:
        if self.install is None:
            return super().describe_version()
        return f"{self.install.version} (Erlang/OTP {self.install.erlang.otp})"

