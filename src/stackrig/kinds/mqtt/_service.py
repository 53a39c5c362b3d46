"""`kind = "mqtt"`: mosquitto (the system's) or amqtt (the pure-Python wheel), from a generated
config file, on 127.0.0.1 and the allocated port, no persistence, logging to its log file."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
from pathlib import Path
from typing import ClassVar
from urllib.parse import quote

from packaging.version import InvalidVersion, Version

from ...errors import ProviderNotFound, ServiceError
from ...services import Binary, BinarySpec, RunContext, Service, Wheel, binary_version, candidates
from ...supervisor import ManagedProcess, Probe, tail
from ._probe import MqttProbe
from ._spec import MqttSpec

__all__ = ["MQTT", "MOSQUITTO", "AMQTT", "MqttService", "broker_of", "broker_version", "find_broker",
           "mosquitto_password_line", "amqtt_password_line", "PROTOCOLS"]

_INSTALL = {"apt": "mosquitto", "brew": "mosquitto", "pip": "amqtt (a pure-Python broker; MQTT 3.1.1 only)"}
_SYSTEM_DIRS = ("/usr/sbin", "/usr/local/sbin", "/opt/homebrew/sbin", "/opt/homebrew/bin", "/usr/local/bin",
                "/usr/bin")
_AMQTT_WHEEL = Wheel(module="", pattern="amqtt", distribution="amqtt")  # the console script in the venv's bin

# Both brokers answer `--version` (mosquitto: "mosquitto version 2.0.11", amqtt: "0.12.1"), so one
# spec covers them and a `version` constraint chooses: "2" is mosquitto 2.x, "<1" amqtt 0.x.
MQTT = BinarySpec(name="mosquitto or amqtt", executables=("mosquitto", "amqtt"), system_dirs=_SYSTEM_DIRS,
                  wheels=(_AMQTT_WHEEL,), install=_INSTALL, tools=("mosquitto_passwd",),
                  version_exit_codes=(0, 3))  # mosquitto prints its version and exits 3
MOSQUITTO = BinarySpec(name="mosquitto", executables=("mosquitto",), system_dirs=_SYSTEM_DIRS,
                       install={"apt": "mosquitto", "brew": "mosquitto"}, tools=("mosquitto_passwd",),
                       version_exit_codes=(0, 3))
AMQTT = BinarySpec(name="amqtt", executables=("amqtt",), system_dirs=_SYSTEM_DIRS, wheels=(_AMQTT_WHEEL,),
                   install={"pip": "amqtt"})

PROTOCOLS = {"mosquitto": "5", "amqtt": "3.1.1"}  # the newest MQTT version each speaks


def broker_of(exe: Path) -> str:
    """Which broker an executable is, by its name."""
    return "amqtt" if "amqtt" in exe.name else "mosquitto"


def mosquitto_password_line(user: str, password: str, salt: bytes | None = None, iterations: int = 101) -> str:
    """A mosquitto 2 password-file line, as `mosquitto_passwd` writes it: ``user:$7$<iterations>$<salt>$<hash>``,
    the hash PBKDF2-HMAC-SHA512 over a 12-byte salt, 64 bytes, both base64 (src/password_mosq.c)."""
    salt = os.urandom(12) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations, 64)
    return f"{user}:$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def amqtt_password_line(user: str, password: str) -> str:
    """An amqtt FileAuthPlugin line: ``user:<argon2id hash>`` (pwdlib).  Cheap parameters: amqtt
    verifies the hash on every CONNECT, and the default ones cost ~0.2 s of CPU each time."""
    from pwdlib.hashers.argon2 import Argon2Hasher

    return f"{user}:{Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1).hash(password)}"


_versions: dict[tuple[str, float, int], Version | None] = {}
_MOSQUITTO_VERSION = re.compile(r"^mosquitto version (\S+)", re.MULTILINE)


def broker_version(exe: Path, spec: BinarySpec) -> Version | None:
    """The providers' version of `exe`; for mosquitto, read from its `-h` banner, because every
    mosquitto 2 invocation that prints the version exits 3 (there is no `--version`), and the
    providers take a failing `--version` for no version."""
    found = binary_version(exe, spec)
    if found is not None or broker_of(exe) != "mosquitto":
        return found
    try:
        st = exe.stat()
    except OSError:
        return None
    key = (str(exe), st.st_mtime, st.st_size)
    if key not in _versions:
        try:
            out = subprocess.run([str(exe), "-h"], capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        m = _MOSQUITTO_VERSION.search(out.stdout)
        try:
            _versions[key] = Version(m.group(1)) if m else None
        except InvalidVersion:
            _versions[key] = None
    return _versions[key]


_found: dict[tuple[str, str, str, str, str], Binary] = {}


def find_broker(spec: BinarySpec, *, service: str, version: str | None, path: str | None, root: Path) -> Binary:
    """`stackrig.services.find_binary`, with :func:`broker_version` for the versions (same order of
    providers, same error); remembered for the process (a suite starting many stacks looks once)."""
    key = (spec.name, version or "", path or "", str(root),
           os.environ.get("STACKRIG_PROVIDERS", "") + os.pathsep + os.environ.get("PATH", ""))
    known = _found.get(key)
    if known is not None and known.exe.exists():
        return known
    _found[key] = found = _find_broker(spec, service=service, version=version, path=path, root=root)
    return found


def _find_broker(spec: BinarySpec, *, service: str, version: str | None, path: str | None, root: Path) -> Binary:
    from ...config import parse_version_constraint

    wanted = parse_version_constraint(version) if version else None
    tried: list[str] = []
    for exe, source in candidates(spec, path=path, root=root):
        v = broker_version(exe, spec)
        if v is None:
            tried.append(f"{exe} ({source}): could not read its version")
            continue
        if wanted is not None and not wanted.contains(v, prereleases=True):
            tried.append(f"{exe} ({source}): version {v} does not satisfy {version!r}")
            continue
        return Binary(spec.name, exe, v, source)
    if path and not any("stack file" in t for t in tried):
        tried.insert(0, f"{path} (stack file `path`): no {' or '.join(spec.executables)} there")
    if not tried:
        tried.append("PATH, system folders and pip wheels: nothing found")
    want = f" {version!r}" if version else ""
    raise ProviderNotFound(f"service '{service}': no {spec.name} {spec.role}{want} found", service=service,
                           tried=tried, hint=spec.install_hint() + (f"; or relax `version = {version!r}`"
                                                                    if version else ""))


def _mosquitto_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class MqttService(Service):
    """An MQTT broker: mosquitto, or amqtt (see the module docs)."""

    binary_spec: ClassVar[BinarySpec | None] = MQTT
    spec: MqttSpec

    def __init__(self, spec: MqttSpec, ctx: RunContext) -> None:
        super().__init__(spec, ctx)
        self.broker: str = "" if spec.broker == "auto" else spec.broker
        self.folder: Path | None = None
        self.config_file: Path | None = None

    # -- attributes ------------------------------------------------------------------
    def url_for(self, port: int | None) -> str:
        if not port:
            return ""
        auth = ""
        if self.spec.user is not None:
            auth = quote(self.spec.user, safe="") + ":" + quote(self.spec.password or "", safe="") + "@"
        return f"mqtt://{auth}{self.host}:{port}"

    def attributes(self, port: int | None = None) -> dict[str, str]:
        attrs = super().attributes(port)
        attrs.update(user=self.spec.user or "", password=self.spec.password or "", broker=self.broker,
                     protocol=PROTOCOLS.get(self.broker, ""))
        return attrs

    def default_exports(self) -> dict[str, str]:
        return {"MQTT_URL": "${url}"}

    def default_probe(self) -> Probe:
        return MqttProbe(self.spec.user, self.spec.password)

    # -- prepare -----------------------------------------------------------------------
    def find_binary(self) -> Binary:
        spec = {"auto": MQTT, "mosquitto": MOSQUITTO, "amqtt": AMQTT}[self.spec.broker]
        self.binary = find_broker(spec, service=self.name, version=self.spec.version, path=self.spec.path,
                                  root=self.ctx.stack_root)
        self.broker = broker_of(self.binary.exe)
        self.source = f"{self.binary.source} {self.broker} {self.binary.version}"
        return self.binary

    def prepare(self, deadline: float) -> None:
        self.find_binary()
        self.folder = self.ctx.data_dir / self.name
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.broker == "amqtt":
            self.config_file = self._amqtt_config(self.folder)
        else:
            self.config_file = self._mosquitto_config(self.folder)

    def _password_file(self, folder: Path) -> Path:
        assert self.spec.user is not None and self.spec.password is not None
        path = folder / "passwords"
        if self.broker == "amqtt":
            try:
                line = amqtt_password_line(self.spec.user, self.spec.password)
            except ImportError:
                raise ServiceError(
                    f"service '{self.name}': amqtt's password file needs argon2 hashes, and pwdlib[argon2] "
                    "is not importable here", service=self.name,
                    hint="pip install 'pwdlib[argon2]' (amqtt depends on it), or leave user/password out") from None
            path.write_text(line + "\n")
            path.chmod(0o600)
            return path
        tool = self._mosquitto_passwd()
        if tool is None:
            path.write_text(mosquitto_password_line(self.spec.user, self.spec.password) + "\n")
            path.chmod(0o600)
            return path
        # `mosquitto_passwd -c -b FILE USER PASSWORD`: a helper process, supervised like the server
        log = self.ctx.logs_dir / f"{self.name}.passwd.log"
        proc = ManagedProcess(f"{self.name}-passwd", [str(tool), "-c", "-b", str(path), self.spec.user,
                                                      self.spec.password],
                              env=self.base_env(), cwd=folder, log_path=log)
        with self.ctx.lock:
            proc.start()
            self.ctx.register(proc)
        try:
            assert proc.popen is not None
            code = proc.popen.wait(timeout=30)
        finally:
            proc.stop(1)
            self.ctx.unregister(proc)
        if code != 0 or not path.exists():
            raise ServiceError(f"service '{self.name}': `mosquitto_passwd` failed (exit code {code})",
                               service=self.name, log_path=log, log_tail=tail(log))
        path.chmod(0o600)
        return path

    def _mosquitto_passwd(self) -> Path | None:
        assert self.binary is not None
        for folder in (self.binary.bindir, self.binary.bindir.parent / "bin"):
            if (folder / "mosquitto_passwd").is_file():
                return folder / "mosquitto_passwd"
        found = shutil.which("mosquitto_passwd")
        return Path(found) if found else None

    def _mosquitto_config(self, folder: Path) -> Path:
        assert self.port is not None
        lines = [
            "# written by stackrig for this run",
            f"listener {self.port} {self.host}",
            f"allow_anonymous {_mosquitto_value(self.spec.allow_anonymous)}",
            "log_dest stderr",  # stdout into a file is block-buffered: lines would come late, or die with it
            "set_tcp_nodelay true",  # no Nagle: a reply written in two parts would wait ~40 ms for an ACK
            "log_type error", "log_type warning", "log_type notice", "log_type information",
            "connection_messages true",
            "log_timestamp_format %Y-%m-%dT%H:%M:%S",
        ]
        if os.geteuid() == 0:
            # as root, mosquitto switches to its own account after binding (and reads the password
            # file as that account); keep it as the account that runs stackrig: the run's files stay
            # readable and its processes stay ours to stop
            lines.append(f"user {pwd.getpwuid(os.geteuid()).pw_name}")
        if self.spec.user is not None:
            lines.append(f"password_file {self._password_file(folder)}")
        config = dict(self.spec.config)
        config.setdefault("persistence", False)
        if config["persistence"] in (True, "true"):
            lines.append(f"persistence_location {folder}/")
        for key, value in config.items():
            for item in value if isinstance(value, list) else [value]:
                lines.append(f"{key} {_mosquitto_value(item)}")
        path = folder / "mosquitto.conf"
        path.write_text("\n".join(lines) + "\n")
        return path

    def _amqtt_config(self, folder: Path) -> Path:
        assert self.port is not None
        auth = "amqtt.plugins.authentication"
        plugins: dict[str, object] = {f"{auth}.AnonymousAuthPlugin": {"allow_anonymous": self.spec.allow_anonymous}}
        if self.spec.user is not None:
            plugins[f"{auth}.FileAuthPlugin"] = {"password_file": str(self._password_file(folder))}
            if not self.spec.allow_anonymous:
                # every plugin that answers must say yes: the anonymous plugin would let any
                # user name in, so only the password file decides
                del plugins[f"{auth}.AnonymousAuthPlugin"]
        config: dict[str, object] = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": plugins,
        }
        config.update(self.spec.config)
        path = folder / "amqtt.yaml"
        path.write_text(json.dumps(config, indent=2) + "\n")  # JSON is YAML
        return path

    # -- run ---------------------------------------------------------------------------
    def launch(self) -> None:
        assert self.binary is not None and self.port is not None and self.config_file is not None
        env = self.base_env()
        if self.broker == "amqtt":
            env.setdefault("PYTHONUNBUFFERED", "1")  # its log reaches the file as it is written
        self.spawn([str(self.binary.exe), "-c", str(self.config_file)], env, self.folder or Path("/"), self.port)

    def stop_signal(self, final: bool) -> int:
        # no persistence: nothing to write at the end of a run, so SIGKILL is the same shutdown at
        # once (amqtt's SIGTERM handling is Python's default, mosquitto's takes a loop tick)
        persistent = self.spec.config.get("persistence") in (True, "true")
        return signal.SIGKILL if final and not persistent else signal.SIGTERM

    def describe_version(self) -> str:
        return f"{self.broker} {self.binary.version}" if self.binary is not None else ""
