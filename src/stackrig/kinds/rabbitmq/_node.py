"""Starting a RabbitMQ node fast: the Erlang VM directly, a short code path, modules preloaded.

Debian's ``rabbitmq-server`` takes 3–7 s to answer AMQP here.  Where the time goes, measured
(docs/kinds/rabbitmq.md has the numbers):

* **Code loading.** RabbitMQ scans every module of every loaded application for attributes
  (feature flags, boot steps): ~960 modules, each loaded on first touch, one at a time, each
  looked up along the code path.  ``ERL_LIBS`` pointing at ``plugins/`` puts ~90 folders on that
  path.  So the node gets a cached folder of symlinks to just the applications it needs (the
  dependency closure of ``rabbit`` and the enabled plugins: ~20) as ``ERL_LIBS`` and plugins
  folder, and an ``-eval`` loads all their modules up front with ``code:ensure_modules_loaded/1``
  (in parallel) before ``rabbit boot``: 2–3× faster than the scan loading them one by one.
* **Extra VMs.** The prelaunch phase starts a second VM to make sure epmd runs and a third check
  of the node name, unless distribution is already up: the node is started with ``-sname`` and
  ``-start_epmd false`` against a per-run ``epmd -port N`` (a supervised process).
* **The first boot** creates the Mnesia schema and imports definitions (~0.3–0.5 s): done once per
  content (`_prepared`), cached, copied per run (~200 KB).  A Mnesia folder is tied to its node
  name, so every node is ``rabbit@localhost``; runs are kept apart by their own epmd, ports and
  data folder.
* ``rabbitmq-env.conf``, ``/etc/rabbitmq/conf.d`` and ``rabbitmq.conf`` (cuttlefish) are not read:
  everything is application environment on the command line.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..._paths import cache_dir
from ...errors import ServiceError
from ...supervisor import MARKER_ENV, ManagedProcess, tail
from ._cache import locked, scratch
from ._install import RabbitInstall

__all__ = ["NODE_NAME", "NodeLayout", "NodePorts", "app_closure", "argv", "env", "graceful_stop", "lib_dir",
           "node_key", "FORMAT"]

NODE_NAME = "rabbit@localhost"
FORMAT = "1"  # bump when the way prepared nodes are built changes
_DEPS = re.compile(rb"\{\s*(applications|included_applications)\s*,\s*\[([^\]]*)\]")
# Loaded by RabbitMQ at run time without being a declared dependency.
_RUNTIME_APPS = ("mnesia",)
# The flags rabbitmq-server passes (memory allocators, busy-wait off: schedulers must not spin on
# a machine they share), minus the scheduler binding (+stbt db) and the 1M process/5M atom limits.
_EMULATOR_FLAGS = ["+W", "w", "+MBas", "ageffcbf", "+MHas", "ageffcbf", "+MBlmbcs", "512", "+MHlmbcs", "512",
                   "+MMmcs", "30", "+zdbbl", "128000", "+sbwt", "none", "+sbwtdcpu", "none", "+sbwtdio", "none",
                   "+B", "i"]


def _deps(app_file: Path) -> list[str]:
    try:
        text = app_file.read_bytes()
    except OSError:
        return []
    names: list[str] = []
    for m in _DEPS.finditer(text):
        names += [n.strip().decode() for n in m.group(2).split(b",") if n.strip()]
    return names


def _otp_app(erlang_root: Path, app: str) -> Path | None:
    found = sorted(erlang_root.glob(f"lib/{app}-*/ebin/{app}.app"), reverse=True)
    return found[0].parent.parent if found else None


def app_closure(install: RabbitInstall, roots: list[str]) -> dict[str, tuple[Path, bool]]:
    """app -> (folder, is it RabbitMQ's (not OTP's)), for `roots` and everything they depend on."""
    found: dict[str, tuple[Path, bool]] = {}
    todo = list(roots) + list(_RUNTIME_APPS)
    while todo:
        app = todo.pop()
        if app in found:
            continue
        folder = install.app_dir(app)
        ours = folder is not None
        if folder is None:
            folder = _otp_app(install.erlang.root, app)
        if folder is None:
            if app in roots:
                raise ServiceError(f"RabbitMQ plugin or application '{app}' is not in {install.plugins}",
                                   service="", hint="check the plugin name (`ls` that folder)")
            continue  # an optional dependency this installation does not have
        found[app] = (folder, ours)
        todo += _deps(folder / "ebin" / f"{app}.app")
    return found


def lib_dir(install: RabbitInstall, apps: Mapping[str, tuple[Path, bool]]) -> Path:
    """A cached folder of symlinks to RabbitMQ's applications in `apps`: ERL_LIBS and the plugins folder."""
    mine = sorted((name, str(folder)) for name, (folder, ours) in apps.items() if ours)
    key = hashlib.sha256(repr((FORMAT, str(install.home), mine)).encode()).hexdigest()[:16]
    final = cache_dir() / "rabbitmq" / f"lib-{key}"
    if final.is_dir():
        return final
    with locked(final.with_suffix(".lock")):
        if final.is_dir():
            return final
        tmp = final.with_name(f"{final.name}.{os.getpid()}.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        for _, folder in mine:
            (tmp / Path(folder).name).symlink_to(folder)
        tmp.rename(final)
    return final


def node_key(*parts: str) -> str:
    h = hashlib.sha256()
    for part in (FORMAT, *parts):
        h.update(part.encode() + b"\0")
    return h.hexdigest()[:16]


@dataclass
class NodePorts:
    amqp: int
    dist: int
    epmd: int
    control: int
    management: int | None = None


@dataclass
class NodeLayout:
    """The folders of one node: its Mnesia base, HOME (the Erlang cookie), logs."""

    root: Path

    @property
    def mnesia(self) -> Path:
        return self.root / "mnesia"

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def log(self) -> Path:
        return self.root / "log"

    def make(self, cookie: str) -> None:
        for folder in (self.root, self.home, self.log):
            folder.mkdir(parents=True, exist_ok=True)
        path = self.home / ".erlang.cookie"
        if not path.exists():
            path.write_text(cookie)
            os.chmod(path, 0o400)


def erl_binary(text: str) -> str:
    """`text` as an Erlang binary literal."""
    return '<<"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"/utf8>>'


def erl_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass
class NodeOptions:
    install: RabbitInstall
    libs: Path
    helper: Path  # the folder holding stackrig_rabbit.beam
    apps: list[str]  # every application to preload
    layout: NodeLayout
    ports: NodePorts
    token: str
    trace_vhosts: list[str]
    plugins: list[str] = field(default_factory=list)
    advanced_config: Path | None = None
    load_definitions: Path | None = None  # only when building the cached node


def argv(o: NodeOptions) -> list[str]:
    p = o.ports
    args = [str(o.install.erlang.erlexec), "-noinput", "-sname", NODE_NAME, "-start_epmd", "false",
            "-boot", "start_sasl", *_EMULATOR_FLAGS,
            "-kernel", "inet_dist_listen_min", str(p.dist), "-kernel", "inet_dist_listen_max", str(p.dist),
            "-kernel", "inet_dist_use_interface", "{127,0,0,1}",
            "-kernel", "prevent_overlapping_partitions", "false",
            "-syslog", "logger", "[]", "-syslog", "syslog_error_logger", "false",
            "-pa", str(o.helper),
            "-rabbit", "tcp_listeners", f'[{{"127.0.0.1",{p.amqp}}}]',
            "-rabbit", "loopback_users", "[]",
            "-rabbit", "trace_vhosts", "[" + ",".join(erl_binary(v) for v in o.trace_vhosts) + "]"]
    if o.load_definitions is not None:
        args += ["-rabbit", "load_definitions", erl_string(str(o.load_definitions))]
    if p.management is not None:
        args += ["-rabbitmq_management", "tcp_config", f'[{{ip,"127.0.0.1"}},{{port,{p.management}}}]']
    preload = ("As=[" + ",".join(o.apps) + "], [application:load(A) || A <- As], "
               "code:ensure_modules_loaded(lists:append("
               "[Ms || A <- As, {ok, Ms} <- [application:get_key(A, modules)]]))")
    args += ["-eval", preload, "-eval", "stackrig_rabbit:start()", "-s", "rabbit", "boot"]
    return args


def env(o: NodeOptions, base: Mapping[str, str], run_id: str, crash_dump: Path) -> dict[str, str]:
    """The node's environment: nothing of RABBITMQ_*/ERL_* inherited (a RABBITMQ_NODENAME or a
    system rabbitmq-env.conf must not leak in); `base` (the stack file's `env`) on top."""
    out = {k: v for k, v in os.environ.items() if not k.startswith(("RABBITMQ_", "ERL_"))}
    out.update(base)
    lay, p = o.layout, o.ports
    (lay.root / "enabled_plugins").write_text("[" + ",".join(o.plugins) + "].\n")
    out.update(o.install.erlang.env())
    out.update({
        "HOME": str(lay.home),
        "ERL_EPMD_PORT": str(p.epmd),
        "ERL_LIBS": str(o.libs),
        "ERL_MAX_ETS_TABLES": "50000",
        "ERL_MAX_PORTS": "65536",
        "ERL_CRASH_DUMP": str(crash_dump),
        "RABBITMQ_HOME": str(o.install.home),
        "RABBITMQ_NODENAME": NODE_NAME,
        "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
        "RABBITMQ_NODE_PORT": str(p.amqp),
        "RABBITMQ_DIST_PORT": str(p.dist),
        "RABBITMQ_MNESIA_BASE": str(lay.mnesia),
        "RABBITMQ_LOG_BASE": str(lay.log),
        "RABBITMQ_LOGS": "-",
        "RABBITMQ_PLUGINS_DIR": str(o.libs),
        "RABBITMQ_PLUGINS_EXPAND_DIR": str(lay.root / "plugins-expand"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(lay.root / "enabled_plugins"),
        "RABBITMQ_CONFIG_FILE": str(lay.root / "rabbitmq"),  # absent: no cuttlefish run
        "RABBITMQ_CONFIG_FILES": str(lay.root / "conf.d"),  # absent: /etc/rabbitmq/conf.d is not read
        "RABBITMQ_ADVANCED_CONFIG_FILE": str(o.advanced_config or lay.root / "advanced.config"),
        "RABBITMQ_CONF_ENV_FILE": str(lay.root / "rabbitmq-env.conf"),  # absent: no shell is run
        "RABBITMQ_PID_FILE": str(lay.root / "rabbit.pid"),
        "STACKRIG_RMQ_CONTROL_PORT": str(p.control),
        "STACKRIG_RMQ_CONTROL_TOKEN": o.token,
        MARKER_ENV: run_id,
    })
    return out


def graceful_stop(proc: ManagedProcess, timeout: float) -> None:
    """SIGTERM to the VM alone (RabbitMQ shuts down cleanly, flushing Mnesia), then the group.
    Signalling the whole group first would kill erl_child_setup under the VM, which then aborts."""
    pid = proc.pid
    if pid is not None and proc.alive():
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        end = time.monotonic() + timeout
        while proc.alive() and time.monotonic() < end:
            time.sleep(0.01)
    proc.stop(2.0, sig=signal.SIGKILL)


def build_failed(service: str, what: str, log: Path, code: int | None) -> ServiceError:
    return ServiceError(
        f"service '{service}': {what}" + (f" (exit code {code})" if code is not None else ""),
        service=service, log_path=log, log_tail=tail(log, 40),
        hint="see the log: an error importing the definitions names the object it refused")


__all__ += ["NodeOptions", "erl_binary", "erl_string", "build_failed", "scratch"]
