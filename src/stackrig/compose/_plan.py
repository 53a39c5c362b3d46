"""Each compose service becomes one stackrig service: a native kind, a process, or an error.

In order: ``x-stackrig: {skip: true}`` or an inactive profile leaves it out; ``x-stackrig.command``
makes it a process; ``build:`` runs the app natively (:mod:`._apps`); an image some kind claims
(:mod:`._images`) is mapped by that kind's :class:`~stackrig.compose.ComposeImage`; a language
image (``python:3.12``, ``node:20``) with a `command` is a process; anything else is an error
naming the service and image, what would run it, and how to leave it out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec

from ..errors import ConfigError
from ._apps import plan_app
from ._hook import ComposeMapping, Key, Note, Unsupported
from ._images import ImageIndex, image_of_kind
from ._model import ComposeDoc, ServiceDef

__all__ = ["Planned", "plan_service", "LANGUAGE_IMAGES", "check_unsupported_keys"]

LANGUAGE_IMAGES = ("python", "pypy", "node", "golang", "eclipse-temurin", "openjdk", "amazoncorretto", "ruby", "php",
                   "alpine", "busybox", "debian", "ubuntu", "bash", "curlimages/curl", "denoland/deno", "oven/bun")
_FAMILIES = {
    "mongo": "MongoDB", "mongodb/mongodb-community-server": "MongoDB", "bitnami/mongodb": "MongoDB",
    "mysql": "MySQL", "mariadb": "MariaDB", "bitnami/mysql": "MySQL",
    "bitnami/kafka": "Kafka", "confluentinc/cp-kafka": "Kafka", "apache/kafka": "Kafka", "wurstmeister/kafka": "Kafka",
    "redpandadata/redpanda": "Redpanda (Kafka)", "confluentinc/cp-zookeeper": "ZooKeeper", "zookeeper": "ZooKeeper",
    "elasticsearch": "Elasticsearch", "elasticsearch/elasticsearch": "Elasticsearch",
    "opensearchproject/opensearch": "OpenSearch", "cassandra": "Cassandra", "memcached": "memcached",
    "minio/minio": "MinIO", "mssql/server": "SQL Server", "neo4j": "Neo4j", "clickhouse/clickhouse-server":
    "ClickHouse", "keycloak/keycloak": "Keycloak", "selenium/standalone-chrome": "Selenium",
    "jaegertracing/all-in-one": "Jaeger", "couchdb": "CouchDB", "influxdb": "InfluxDB",
}


@dataclass
class Planned:
    """One stackrig service planned from a compose service (its table still to be rewritten)."""

    name: str
    sd: ServiceDef
    kind: str
    table: dict[str, Any]
    ports: dict[int, str]  # container port -> attribute others address it by
    notes: list[Note] = field(default_factory=list)
    origins: dict[str, Key] = field(default_factory=dict)
    source: str = ""  # "image postgres:13", "build ./api", "x-stackrig.command"
    app: bool = False
    env: dict[str, str] = field(default_factory=dict)  # to be rewritten (apps: the process's env)
    env_keys: dict[str, Key] = field(default_factory=dict)
    x_env: dict[str, str] = field(default_factory=dict)
    port_var: str | None = None
    version: str | None = None  # the tag, as a preference
    rewrite: tuple[str, ...] = ()
    job: bool = False
    pointing: set[str] = field(default_factory=set)  # env variables that point at other services


def _unsupported(doc: ComposeDoc, sd: ServiceDef, exc: Unsupported) -> ConfigError:
    image = f" (image {sd.svc.image.text})" if sd.svc.image else ""
    return doc.located.error((*sd.keys, *exc.key), f"service '{sd.name}'{image}: {exc.message}", exc.hint)


def check_unsupported_keys(doc: ComposeDoc, sd: ServiceDef) -> None:
    """Keys whose meaning a local process cannot have (only for services that run)."""
    raw = sd.svc.raw
    where = sd.keys
    mode = raw.get("network_mode")
    if isinstance(mode, str) and mode not in ("bridge", "default", "none", ""):
        shared = mode.startswith(("service:", "container:"))
        raise doc.located.error((*where, "network_mode"), f"service '{sd.name}': network_mode {mode!r} "
                                + ("shares another container's network namespace (it reaches that service on "
                                   "localhost at its container ports)" if shared else
                                   "puts it on the host's network at fixed ports") + ", which stackrig cannot honour: "
                                "every service runs on allocated ports of 127.0.0.1",
                                hint="remove network_mode for stackrig runs (services reach each other by name, "
                                     "rewritten), or leave the service out with `x-stackrig: {skip: true}` or "
                                     "`profiles: [docker]`")
    checks = {"privileged": "needs a privileged container", "devices": "maps host devices into the container",
              "device_cgroup_rules": "maps host devices into the container", "gpus": "reserves GPUs",
              "provider": "is managed by a compose provider plugin", "models": "uses Docker Model Runner models",
              "use_api_socket": "talks to the container engine's socket"}
    for key, what in checks.items():
        value = raw.get(key)
        if value in (None, False, "false", [], {}):
            continue
        raise doc.located.error((*where, key), f"service '{sd.name}': `{key}` — it {what}, which a local process "
                                "cannot have", hint="remove it for stackrig runs, or leave the service out with "
                                                    "`x-stackrig: {skip: true}` or `profiles: [docker]`")


def _unknown_image(doc: ComposeDoc, sd: ServiceDef, index: ImageIndex) -> ConfigError:
    image = sd.svc.image
    assert image is not None
    family = _FAMILIES.get(image.repository)
    what = f"{family} ({image.text})" if family else f"image {image.text}"
    known = ", ".join(sorted(index.images)) or "none"
    extra = ""
    if family == "MinIO":
        extra = "; for S3, `localstack/localstack` or `motoserver/moto` run natively as kind aws"
    if image.repository in LANGUAGE_IMAGES:
        return doc.located.error((*sd.keys, "image"), f"service '{sd.name}' (image {image.text}): a language image "
                                 "without `command` runs its default command, which does nothing useful locally",
                                 hint="set `command:` (it runs with this machine's interpreter), or "
                                      "`x-stackrig: {command: ...}`")
    return doc.located.error(
        (*sd.keys, "image"),
        f"service '{sd.name}': stackrig cannot run {what} natively — it needs a container engine (stackrig's "
        f"Docker backend is future work){extra}",
        hint="leave it out of stackrig runs with `profiles: [docker]` or `x-stackrig: {skip: true}` on the service "
             "(and point the app at a server you run, with x-stackrig.env); if it is a program this machine can run, "
             f"`x-stackrig: {{command: ...}}` runs it as a process. Images stackrig runs natively: {known}")


def _kind_notes(sd: ServiceDef, mapping: ComposeMapping, ports: dict[int, str], kind: str) -> list[Note]:
    svc = sd.svc
    notes: list[Note] = []
    for key in svc.environment:
        if key not in mapping.used_env:
            notes.append(Note(sd.env_keys.get(key, ("environment", key)),
                              f"environment {key}: dropped — the native {kind} server does not read it", "dropped"))
    for v in svc.volumes:
        if v.index in mapping.used_volumes:
            continue
        if v.type == "volume":
            notes.append(Note(("volumes", v.index), f"volume {v.source or '(anonymous)'}:{v.target}: dropped — data "
                              "volumes: every run starts from the kind's prepared data", "dropped"))
        elif v.type == "tmpfs":
            notes.append(Note(("volumes", v.index), f"tmpfs {v.target}: dropped", "dropped"))
        else:
            notes.append(Note(("volumes", v.index), f"bind mount {svc.relative(v.path) if v.path else v.source}:"
                              f"{v.target}: not used by the native {kind} server", "warning"))
    if svc.command is not None and not mapping.used_command:
        notes.append(Note(("command",), f"command {' '.join(svc.command)!r}: dropped — stackrig starts the server "
                          "itself", "warning"))
    for p in svc.ports:
        attr = ports.get(p.container)
        if attr is None:
            notes.append(Note((p.key, p.index), f"{p.key} {p.container}: no stackrig counterpart for this container "
                              "port — dropped", "dropped"))
        elif p.published:
            notes.append(Note((p.key, p.index), f"ports {p.published}:{p.container} → an allocated port "
                              f"(${{{sd.name}.{attr}}}); the fixed host port is never used"))
    if sd.healthcheck is not None and not sd.healthcheck.disabled:
        notes.append(Note(("healthcheck",), f"healthcheck `{sd.healthcheck.text}` → the kind's native readiness "
                          "probe"))
    return notes


def plan_service(doc: ComposeDoc, sd: ServiceDef, index: ImageIndex, *, job: bool,
                 referenced: set[int]) -> Planned:
    """One service's plan; raises a located ConfigError for what cannot run."""
    from ..services import registry

    image = sd.svc.image
    is_app = "command" in sd.x or sd.build is not None or (
        image is not None and image.repository in LANGUAGE_IMAGES and (sd.svc.command or sd.svc.entrypoint))
    if is_app:
        check_unsupported_keys(doc, sd)
        if index.command_kind is None:
            raise doc.located.error(sd.keys, f"service '{sd.name}': no installed kind runs commands",
                                    hint="reinstall stackrig (its process kind runs the app)")
        try:
            command_kind = registry().get(index.command_kind)
            plan = plan_app(sd, job=job, referenced_ports=referenced,
                            native_job="job" in {f.name for f in msgspec.structs.fields(command_kind.spec)})
        except Unsupported as exc:
            raise _unsupported(doc, sd, exc) from None
        source = ("x-stackrig.command" if "command" in sd.x else
                  f"build {sd.svc.relative(sd.build.context)}" if sd.build else f"image {image.text if image else ''}")
        return Planned(name=sd.name, sd=sd, kind=index.command_kind, table=plan.table,
                       ports={plan.own_ports[0]: "port"} if plan.own_ports else {}, notes=[*sd.notes, *plan.notes],
                       origins=plan.origins, source=source, app=True, env=plan.env, env_keys=plan.env_keys,
                       x_env=plan.x_env, port_var=plan.port_var, job=job or sd.x.get("job") is True)
    if image is None:
        raise doc.located.error(sd.keys, f"service '{sd.name}' has neither `image` nor `build`",
                                hint="give it an image or a build context (or `x-stackrig: {command: ...}`)")
    kind_name = index.images.get(image.repository)
    if kind_name is None:
        raise _unknown_image(doc, sd, index)
    check_unsupported_keys(doc, sd)
    kind = registry().get(kind_name)
    hook = image_of_kind(kind)
    if hook is None:
        raise doc.located.error((*sd.keys, "image"), f"service '{sd.name}': kind '{kind_name}' claimed image "
                                f"{image.text} but offers no compose mapping now",
                                hint="clear the cache (STACKRIG_KIND_CACHE=0) or reinstall the kind's package")
    try:
        mapping = hook.map(sd.svc)
    except Unsupported as exc:
        raise _unsupported(doc, sd, exc) from None
    ports = {**hook.ports, **mapping.ports}
    table: dict[str, Any] = {**mapping.table}
    origins: dict[str, Key] = {k: ("image",) for k in table}
    if "ready" in sd.x:
        table["ready"] = dict(sd.x["ready"])
        origins["ready"] = ("x-stackrig", "ready")
    if "start_timeout" in sd.x:
        table["start_timeout"] = float(sd.x["start_timeout"])
    if sd.stop_timeout is not None:
        table["stop_timeout"] = sd.stop_timeout
        origins["stop_timeout"] = ("stop_grace_period",)
    if sd.replicas > 1:
        sd.notes.append(Note(("scale",), f"{sd.replicas} replicas: one {kind_name} server runs", "warning"))
    notes = [*sd.notes, *mapping.notes, *_kind_notes(sd, mapping, ports, kind_name)]
    env = {k: str(v) for k, v in (mapping.table.get("env") or {}).items()}
    table.pop("env", None)
    return Planned(name=sd.name, sd=sd, kind=kind_name, table=table, ports=ports, notes=notes, origins=origins,
                   source=f"image {image.text}", env=env,
                   x_env={str(k): str(v) for k, v in (sd.x.get("env") or {}).items()},
                   version=mapping.version if hook.versioned else None, rewrite=mapping.rewrite)
