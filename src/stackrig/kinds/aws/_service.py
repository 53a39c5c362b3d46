"""`kind = "aws"`: moto's server (S3, SQS, SNS) with the stack file's resources, as one process."""

from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path
from typing import Any, ClassVar

from ...errors import ConfigError, ServiceError
from ...services import BinarySpec, RunContext, Service, Wheel, script_interpreter
from ...supervisor import Probe, ProbeTarget
from ._provision import clients
from ._spec import ACCESS_KEY, ACCOUNT_ID, SECRET_KEY, AwsSpec

__all__ = ["AwsService", "MOTO", "LAUNCHER", "moto_interpreter"]

MOTO = BinarySpec(
    name="moto", executables=("moto_server",),
    wheels=(Wheel("", "moto_server", "moto"),),
    install={"pip": "'moto[server]'"},
    python_distribution="moto",  # moto_server has no --version
)

LAUNCHER = Path(__file__).with_name("_moto_main.py")
READY_PATH = "/_stackrig/ready"


def moto_interpreter(script: Path) -> list[str]:
    """The Python that runs the `moto_server` console script `script` (its shebang), as argv."""
    found = script_interpreter(script)
    if found is None:
        raise ServiceError(f"{script} is not a Python console script (no #! line); stackrig runs moto's server "
                           "with the interpreter of the moto_server script", service="moto",
                           hint="point `path` at the moto_server of a Python environment that has moto[server]")
    return found


class ReadyProbe:
    """Ready when moto answers ``GET /_stackrig/ready`` with 200.  Its first answer (503: serving,
    nothing created yet) makes the probe create the stack file's resources (`AwsService.provision`),
    so a restart by a test comes back provisioned too."""

    def __init__(self, service: AwsService) -> None:
        self.service = service

    def describe(self) -> str:
        return f"moto to answer GET {READY_PATH} (then the stack file's resources are created)"

    def check(self, target: ProbeTarget) -> bool:
        status = _get_status(target.host, target.port)
        if status == 503:
            self.service.provision()
            return True
        return status == 200


def _get_status(host: str, port: int | None, path: str = READY_PATH) -> int | None:
    if port is None:
        return None
    import http.client

    conn = http.client.HTTPConnection(host, port, timeout=5)
    try:
        conn.request("GET", path, headers={"User-Agent": "stackrig-probe"})
        response = conn.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


class AwsService(Service):
    """moto in server mode, started through `_moto_main.py` with the interpreter of `moto_server`."""

    binary_spec: ClassVar[BinarySpec | None] = MOTO
    spec: AwsSpec

    def __init__(self, spec: AwsSpec, ctx: RunContext) -> None:
        super().__init__(spec, ctx)
        self.interpreter: list[str] = []
        self.plan: dict[str, Any] = {}
        self._clients: tuple[Any, Any, Any] | None = None
        self._clients_error: BaseException | None = None
        self._warm: threading.Thread | None = None

    # -- discovery ----------------------------------------------------------------------
    def attributes(self, port: int | None = None) -> dict[str, str]:
        attrs = super().attributes(port)
        url = attrs["url"]
        region = self.spec.region
        attrs.update(
            region=region, access_key=ACCESS_KEY, secret_key=SECRET_KEY, account_id=ACCOUNT_ID,
            buckets=json.dumps([b.name for b in self.spec.bucket_specs()]),
            queues=json.dumps({q.name: f"{url}/{ACCOUNT_ID}/{q.name}" for q in self.spec.queue_specs()}),
            topics=json.dumps({t.name: f"arn:aws:sns:{region}:{ACCOUNT_ID}:{t.name}" for t in self.spec.topic_specs()}),
        )
        return attrs

    def default_exports(self) -> dict[str, str]:
        """What boto3 and the AWS CLI read, unchanged (the stack file's `export` wins)."""
        return {"AWS_ENDPOINT_URL": "${url}", "AWS_DEFAULT_REGION": "${region}", "AWS_REGION": "${region}",
                "AWS_ACCESS_KEY_ID": "${access_key}", "AWS_SECRET_ACCESS_KEY": "${secret_key}"}

    def default_probe(self) -> Probe:
        return ReadyProbe(self)

    # -- lifecycle -----------------------------------------------------------------------
    def _plan(self) -> dict[str, Any]:
        buckets = []
        for i, b in enumerate(self.spec.bucket_specs()):
            folder: str | None = None
            if b.from_ is not None:
                path = Path(os.path.expanduser(b.from_))
                path = path if path.is_absolute() else self.ctx.stack_root / path
                if not path.is_dir():
                    raise self._config_error(f"buckets[{i}]", b.from_,
                                             f"bucket {b.name!r}: `from` folder {b.from_!r} does not exist "
                                             f"(looked for {path})" if not path.exists() else
                                             f"bucket {b.name!r}: `from` = {b.from_!r} is a file, not a folder",
                                             "name a folder relative to the stack file")
                folder = str(path.resolve())
            buckets.append({"name": b.name, "from": folder})
        queues = [{"name": q.name, "attributes": q.sqs_attributes(), "dead_letter": q.dead_letter,
                   "max_receives": q.max_receives} for q in self.spec.queue_specs()]
        topics = [{"name": t.name, "attributes": t.sns_attributes(),
                   "subscriptions": [{"queue": s.queue, "attributes": s.sns_attributes()}
                                     for s in t.subscription_specs()]}
                  for t in self.spec.topic_specs()]
        return {"region": self.spec.region, "account": ACCOUNT_ID, "buckets": buckets, "queues": queues,
                "topics": topics}

    def _config_error(self, key: str, value: str, message: str, hint: str) -> ConfigError:
        line: int | None = None
        try:
            for n, text in enumerate(self.ctx.stack_file.read_text().splitlines(), start=1):
                if f'"{value}"' in text or f"'{value}'" in text:
                    line = n
                    break
        except OSError:
            pass
        return ConfigError(message, file=self.ctx.stack_file, line=line, key=f"services.{self.name}.{key}.from",
                           hint=hint)

    def prepare(self, deadline: float) -> None:
        binary = self.find_binary()
        self.interpreter = moto_interpreter(binary.exe)
        (self.ctx.data_dir / self.name).mkdir(parents=True, exist_ok=True)
        self.plan = self._plan()
        if self.plan["buckets"] or self.plan["queues"] or self.plan["topics"]:
            # boto3's import and clients (~0.3 s) on the other core, while moto starts
            self._warm = threading.Thread(target=self._make_clients, name=f"stackrig-{self.name}-boto3", daemon=True)
            self._warm.start()

    def _make_clients(self) -> None:
        try:
            self._clients = clients(self.url_for(self.port), self.spec.region)
        except BaseException as exc:  # noqa: BLE001 - raised by provision()
            self._clients_error = exc

    def provision(self) -> None:
        """Create the stack file's resources on the running moto, then post their snapshot (the
        baseline of the per-test reset): moto answers ready from then on."""
        from ...supervisor import tail
        from ._provision import provision

        url = self.url_for(self.port)
        made: tuple[Any, Any, Any] | None = None
        if self._warm is not None:
            self._warm.join()
            if isinstance(self._clients_error, ImportError):
                raise ServiceError(f"service '{self.name}': creating its buckets, queues and topics needs boto3",
                                   service=self.name, hint="pip install boto3 (or 'stackrig[brokers]')")
            made = self._clients
        try:
            baseline = provision(self.plan, url, made)
        except Exception as exc:
            raise ServiceError(
                f"service '{self.name}': moto refused to create the stack file's resources: "
                f"{type(exc).__name__}: {exc}", service=self.name, log_path=self.log_path(),
                log_tail=tail(self.log_path()),
                hint="check the buckets, queues and topics of the stack file against the error above") from exc
        import http.client

        conn = http.client.HTTPConnection(self.host, self.port or 0, timeout=10)
        try:
            conn.request("POST", "/_stackrig/baseline", body=json.dumps(baseline),
                         headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
        finally:
            conn.close()
        if response.status != 200:
            raise ServiceError(f"service '{self.name}': moto did not take the baseline (HTTP {response.status})",
                               service=self.name, log_path=self.log_path(), log_tail=tail(self.log_path()))

    def after_ready(self, deadline: float) -> None:
        # a stack file's own `ready = ...` replaces the default probe, which provisions: do it here
        if _get_status(self.host, self.port) == 503:
            self.provision()

    def launch(self) -> None:
        assert self.port is not None
        env = self.base_env()
        env["MOTO_PORT"] = str(self.port)
        for key in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_CONFIG_FILE"):  # the caller's AWS settings stay out
            env.pop(key, None)
        argv = [*self.interpreter, str(LAUNCHER), "--host", self.host, "--port", str(self.port)]
        self.spawn(argv, env, self.ctx.data_dir / self.name, self.port)

    def stop_signal(self, final: bool) -> int:
        # everything is in memory: at the end of a run SIGKILL is the same shutdown, at once
        return signal.SIGKILL if final else signal.SIGTERM
