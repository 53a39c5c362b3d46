"""Read and validate a compose file: YAML, interpolation, `extends`, every key's type.

Validation follows the Compose specification's rules (the keys of each level, their types, the
short and long syntaxes); every mistake is one :class:`~stackrig.errors.ConfigError` naming the
file, the line (from the YAML node marks), the key and the fix, like a stack-file error.
Constructs stackrig cannot honour are reported later, and only for services that run (a
service left out by `profiles` or ``x-stackrig: {skip: true}`` may use anything).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ._check import Checker as _Checker, describe as _describe, did_you_mean as _did_you_mean
from ._hook import ComposeService, Key, Note, PortMapping, Volume
from ._interp import Interpolator, MissingVariable, read_env_file
from ._keys import BUILD_KEYS, HEALTHCHECK_KEYS, SERVICE_KEYS, TOP_KEYS, X_STACKRIG_KEYS, X_STACKRIG_TOP_KEYS
from ._model import (
    BuildDef,
    ComposeDoc,
    Dependency,
    Located,
    ServiceDef,
    duration,
    image_of,
    parse_depends,
    parse_healthcheck,
    parse_port,
    parse_volume,
    split_command,
)
from ._yaml import read_yaml

__all__ = ["parse_compose"]

_COMPOSE_NAME = re.compile(r"^[a-zA-Z0-9._-]+$")
_STACKRIG_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")
_REMOTE = re.compile(r"^(?:https?://|git@|git://|ssh://|github\.com/)|\.git(?:#.*)?$")


def _env_list(value: Any) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return {str(k): v for k, v in value.items()}
    found: dict[str, Any] = {}
    for item in value:
        key, sep, val = str(item).partition("=")
        found[key] = val if sep else None
    return found


def _scalar(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _merge(base: Any, override: Any, key: str = "") -> Any:
    """`extends` merging: mappings deep-merged, port/volume-like lists joined, the rest replaced."""
    if isinstance(base, Mapping) and isinstance(override, Mapping):
        out = dict(base)
        for k, v in override.items():
            out[k] = _merge(base[k], v, k) if k in base else v
        return out
    if key in ("environment", "labels", "build") and (isinstance(base, list) or isinstance(override, list)):
        if key == "build":
            return override
        return {**_env_list(base), **_env_list(override)}
    if key in ("ports", "expose", "volumes", "secrets", "dns", "dns_search", "extra_hosts", "cap_add", "env_file") \
            and isinstance(base, list) and isinstance(override, list):
        return [*base, *[v for v in override if v not in base]]
    return override


class _Parser:
    def __init__(self, path: Path, doc: dict[str, Any], ld: Located, interp: Interpolator) -> None:
        self.path = path
        self.root = path.parent
        self.doc = doc
        self.ld = ld
        self.check = _Checker(ld)
        self.interp = interp
        self.inputs: list[Path] = []

    # -- extends --------------------------------------------------------------------------
    def resolved(self, name: str, services: Mapping[str, Any], chain: tuple[str, ...] = ()) -> dict[str, Any]:
        body = services[name]
        if body is None:
            body = {}
        if not isinstance(body, Mapping):
            raise self.ld.error(("services", name), f"expected a mapping, found {_describe(body)}",
                                hint="write the service as `name:` followed by its keys, indented")
        ext = body.get("extends")
        if ext is None:
            return dict(body)
        where = ("services", name, "extends")
        target, file = (ext, None) if isinstance(ext, str) else (ext.get("service"), ext.get("file"))
        if not isinstance(target, str):
            raise self.ld.error(where, "`extends` needs `service:`", hint="write extends: {service: NAME}")
        if file is None:
            if target not in services:
                raise self.ld.error(where, f"extends unknown service '{target}'{_did_you_mean(target, services)}",
                                    hint=f"services are: {', '.join(services)}")
            if target in chain or target == name:
                raise self.ld.error(where, f"extends cycle: {' -> '.join((*chain, name, target))}",
                                    hint="remove one of the `extends`")
            base = self.resolved(target, services, (*chain, name))
        else:
            other = (self.root / str(file)).resolve()
            try:
                text = other.read_text(encoding="utf-8")
            except OSError as exc:
                raise self.ld.error(where, f"cannot read the extended file {other}: {exc.strerror}",
                                    hint="fix `extends.file`; it is relative to this compose file") from None
            self.inputs.append(other)
            data, _ = read_yaml(other, text)
            others = data.get("services", {}) if isinstance(data, Mapping) else {}
            if target not in others:
                raise self.ld.error(where, f"{other.name} has no service '{target}'{_did_you_mean(target, others)}",
                                    hint=f"its services are: {', '.join(others) or 'none'}")
            base = dict(self.interp.value(others[target] or {}))
            base = _absolute_paths(base, other.parent)
        merged = {k: v for k, v in base.items() if k not in ("depends_on", "links", "volumes_from", "extends")}
        own = {k: v for k, v in body.items() if k != "extends"}
        return dict(_merge(merged, own))

    # -- one service ----------------------------------------------------------------------
    def service(self, name: str, body: dict[str, Any], sr_name: str) -> ServiceDef:
        where: Key = ("services", name)
        self.check.keys(where, body, SERVICE_KEYS, "service")
        notes: list[Note] = []
        for key in body:
            entry = SERVICE_KEYS.get(str(key))
            if entry and entry[1] in ("dropped", "warning"):
                notes.append(Note((key,), f"{key}: {entry[2]}", "dropped" if entry[1] == "dropped" else "warning"))
        env, env_keys = self.environment(where, body)
        ports = self.ports(where, body)
        volumes = self.volumes(where, body)
        secrets = self.secrets(where, body, notes)
        command_value = body.get("command")
        raw = dict(body)
        svc = ComposeService(
            name=sr_name, file=self.path, root=self.root, image=image_of(body.get("image")), environment=env,
            command=split_command(command_value), entrypoint=split_command(body.get("entrypoint")),
            volumes=tuple(volumes), ports=tuple(ports), secrets=secrets, raw=raw)
        sd = ServiceDef(name=sr_name, svc=svc, notes=notes, env_keys=env_keys,
                        command_form="string" if isinstance(command_value, str) else "list")
        sd.aliases = {name, sr_name}
        for key in ("container_name", "hostname"):
            if isinstance(body.get(key), str):
                sd.aliases.add(body[key])
        self.networks(where, body, sd)
        if "build" in body:
            sd.build = self.build(where, body["build"])
        if isinstance(body.get("working_dir"), str):
            sd.working_dir = body["working_dir"]
        if "depends_on" in body:
            deps = parse_depends(body["depends_on"])
            if isinstance(deps, str):
                raise self.ld.error((*where, "depends_on"), f"depends_on: expected {deps}",
                                    hint="write depends_on: [a, b] or depends_on: {a: {condition: service_healthy}}")
            sd.depends_on = deps
        if "healthcheck" in body:
            self.check.keys((*where, "healthcheck"), body["healthcheck"], HEALTHCHECK_KEYS, "healthcheck")
            health = parse_healthcheck(body["healthcheck"])
            if isinstance(health, str):
                raise self.ld.error((*where, "healthcheck"), f"healthcheck {health}",
                                    hint='e.g. test: ["CMD-SHELL", "pg_isready -U postgres"]')
            sd.healthcheck = health
        if "profiles" in body:
            sd.profiles = tuple(str(p) for p in body["profiles"])
        sd.replicas = self.replicas(where, body, notes)
        if isinstance(body.get("stop_grace_period"), str):
            seconds = duration(body["stop_grace_period"])
            if seconds is None:
                raise self.ld.error((*where, "stop_grace_period"), f"{body['stop_grace_period']!r} is not a duration",
                                    hint='write e.g. "10s" or "1m30s"')
            sd.stop_timeout = max(seconds, 0.1)
        x = body.get("x-stackrig")
        if x is not None:
            if not isinstance(x, Mapping):
                raise self.ld.error((*where, "x-stackrig"), f"expected a mapping, found {_describe(x)}",
                                    hint="write e.g. x-stackrig: {skip: true} or x-stackrig: {command: ...}")
            table = {k: (v[0], v[1]) for k, v in X_STACKRIG_KEYS.items()}
            for key, value in x.items():
                if str(key) not in table:
                    raise self.ld.error((*where, "x-stackrig", key), f"unknown x-stackrig key '{key}'"
                                        f"{_did_you_mean(str(key), table)}",
                                        hint=f"use one of: {', '.join(sorted(table))} (docs/compose.md)")
                self.check.type((*where, "x-stackrig", key), value, table[str(key)][0])
            sd.x = dict(x)
        for link in body.get("links", []) or []:
            target, _, alias = str(link).partition(":")
            sd.depends_on.setdefault(target, Dependency())
            if alias:
                sd.links.append((target, alias))
            sd.notes.append(Note(("links",), f"links: {link} → depends on {target}"
                                 + (f"; '{alias}' is an alias of it" if alias else "")))
        return sd

    def environment(self, where: Key, body: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, Key]]:
        env: dict[str, str] = {}
        keys: dict[str, Key] = {}
        files = body.get("env_file", [])
        files = [files] if isinstance(files, str) else files
        for i, entry in enumerate(files):
            required = True
            if isinstance(entry, Mapping):
                required = bool(entry.get("required", True))
                entry = entry.get("path")
            if not isinstance(entry, str):
                raise self.ld.error((*where, "env_file", i), "expected a file path", hint="env_file: [.env.test]")
            p = (self.root / entry).resolve()
            if not p.is_file():
                if required:
                    raise self.ld.error((*where, "env_file", i), f"env_file {entry!r} not found (looked at {p})",
                                        hint="create it, fix the path (relative to the compose file), or mark it "
                                             "`required: false`")
                continue
            self.inputs.append(p)
            for key, value in read_env_file(p, self.interp.environ).items():
                if value is None:
                    self.interp.used.add(key)
                value = value if value is not None else self.interp.environ.get(key)
                if value is not None:
                    env[key] = value
                    keys[key] = ("env_file", i)
        if "environment" in body:
            for key, value in _env_list(body["environment"]).items():
                if isinstance(value, (list, Mapping)):
                    raise self.ld.error((*where, "environment", key), f"expected a value, found {_describe(value)}",
                                        hint="write KEY: value")
                text = _scalar(value)
                if text is None:
                    self.interp.used.add(key)
                    text = self.interp.environ.get(key)  # `- KEY` alone: from the environment
                    if text is None:
                        env.pop(key, None)
                        continue
                env[key] = text
                keys[key] = ("environment", key)
        return env, keys

    def ports(self, where: Key, body: Mapping[str, Any]) -> list[PortMapping]:
        found: list[PortMapping] = []
        for key in ("ports", "expose"):
            for i, value in enumerate(body.get(key, []) or []):
                parsed = parse_port(value, i, key)
                if isinstance(parsed, str):
                    raise self.ld.error((*where, key, i), parsed, hint='write e.g. "8000:8000" or "8000"')
                found.extend(parsed)
        return found

    def volumes(self, where: Key, body: Mapping[str, Any]) -> list[Volume]:
        found: list[Volume] = []
        for i, value in enumerate(body.get("volumes", []) or []):
            parsed = parse_volume(value, i, self.root)
            if isinstance(parsed, str):
                raise self.ld.error((*where, "volumes", i), parsed,
                                    hint='write e.g. "./init:/docker-entrypoint-initdb.d"')
            found.append(parsed)
        return found

    def secrets(self, where: Key, body: Mapping[str, Any], notes: list[Note]) -> dict[str, Path]:
        top = self.doc.get("secrets") or {}
        found: dict[str, Path] = {}
        for i, entry in enumerate(body.get("secrets", []) or []):
            source, target = (entry, None) if isinstance(entry, str) else (entry.get("source"), entry.get("target"))
            if source not in top:
                raise self.ld.error((*where, "secrets", i), f"secret '{source}' is not declared"
                                    f"{_did_you_mean(str(source), top)}", hint="declare it under the top-level "
                                                                                "`secrets:` with `file: ./path`")
            target = str(target or source)
            path = target if target.startswith("/") else f"/run/secrets/{target}"
            spec = top[source] or {}
            if isinstance(spec, Mapping) and isinstance(spec.get("file"), str):
                found[path] = (self.root / spec["file"]).resolve()
            else:
                notes.append(Note(("secrets", i), f"secret '{source}' is not a file secret: {path} does not exist "
                                  "for the local process", "warning"))
        return found

    def networks(self, where: Key, body: Mapping[str, Any], sd: ServiceDef) -> None:
        nets = body.get("networks")
        if isinstance(nets, Mapping):
            for net, conf in nets.items():
                if not isinstance(conf, Mapping):
                    continue
                for alias in conf.get("aliases", []) or []:
                    sd.aliases.add(str(alias))
                for key in ("ipv4_address", "ipv6_address"):
                    if conf.get(key):
                        sd.aliases.add(str(conf[key]))
                        sd.notes.append(Note(("networks", net, key), f"networks.{net}.{key}: {conf[key]} is "
                                             "rewritten like the service's name"))
        if nets:
            sd.notes.append(Note(("networks",), "networks: dropped — services reach each other through rewritten "
                                 "127.0.0.1 addresses", "dropped"))

    def build(self, where: Key, value: Any) -> BuildDef:
        body = {"context": value} if isinstance(value, str) else dict(value)
        self.check.keys((*where, "build"), body, BUILD_KEYS, "build")
        context_text = str(body.get("context", "."))
        remote = bool(_REMOTE.search(context_text))
        context = (self.root / os.path.expanduser(context_text)).resolve() if not remote else self.root
        inline = body.get("dockerfile_inline")
        dockerfile = None if inline is not None else (context / str(body.get("dockerfile", "Dockerfile")))
        args: dict[str, str | None] = {}
        for key, arg in _env_list(body.get("args", {})).items():
            if arg is None:
                self.interp.used.add(key)
            args[key] = _scalar(arg) if arg is not None else self.interp.environ.get(key)
        return BuildDef(context=context, dockerfile=dockerfile, inline=inline, args=args,
                        target=body.get("target"), remote=remote)

    def replicas(self, where: Key, body: Mapping[str, Any], notes: list[Note]) -> int:
        count: Any = body.get("scale")
        deploy = body.get("deploy") or {}
        if isinstance(deploy, Mapping):
            if deploy.get("replicas") is not None:
                count = deploy["replicas"]
            for key in deploy:
                if key != "replicas":
                    notes.append(Note(("deploy", key), f"deploy.{key}: dropped — "
                                      + ("resource limits do not apply to local processes" if key == "resources"
                                         else "no orchestrator"), "dropped"))
        if count is None:
            return 1
        try:
            n = int(count)
        except (TypeError, ValueError):
            raise self.ld.error((*where, "scale"), f"expected a number of replicas, found {count!r}",
                                hint="write scale: 2") from None
        return max(n, 0)


def _absolute_paths(body: dict[str, Any], folder: Path) -> dict[str, Any]:
    """A service extended from another file: its relative build context and bind sources made absolute."""
    out = dict(body)
    build = out.get("build")
    if isinstance(build, str):
        out["build"] = str((folder / build).resolve())
    elif isinstance(build, Mapping):
        out["build"] = {**build, "context": str((folder / str(build.get("context", "."))).resolve())}
    vols = []
    for v in out.get("volumes", []) or []:
        if isinstance(v, str) and v.startswith("."):
            src, sep, rest = v.partition(":")
            v = f"{(folder / src).resolve()}{sep}{rest}"
        vols.append(v)
    if vols:
        out["volumes"] = vols
    return out


def _environment(root: Path, environ: Mapping[str, str] | None, inputs: list[Path]) -> dict[str, str]:
    """The variables interpolation sees: the project's `.env` under the process environment."""
    base: dict[str, str] = {}
    dotenv = root / ".env"
    shell = dict(os.environ if environ is None else environ)
    if dotenv.is_file():
        inputs.append(dotenv)
        base.update({k: v for k, v in read_env_file(dotenv, shell).items() if v is not None})
    base.update(shell)
    return base


def stackrig_name(name: str) -> str:
    """A compose service name as a stackrig service name (letters, digits, '-', '_'; a letter first)."""
    out = name.replace(".", "-")
    return out if _STACKRIG_NAME.match(out) else f"s-{out}"


def parse_compose(path: Path, raw: bytes, *, profiles: Iterable[str] = (),
                  environ: Mapping[str, str] | None = None) -> ComposeDoc:
    text = raw.decode("utf-8", errors="replace")
    data, lines = read_yaml(path, text)
    ld = Located(path, lines)
    if not isinstance(data, Mapping):
        raise ConfigError("a compose file is a mapping with `services:`", file=path, line=1,
                          hint="start it with `services:` and one entry per service")
    _Checker(ld).keys((), data, TOP_KEYS, "top-level")
    inputs: list[Path] = []
    env = _environment(path.parent, environ, inputs)
    interp = Interpolator(env)
    try:
        doc = {k: interp.value(v, (k,)) for k, v in data.items()}
    except MissingVariable as exc:
        raise ld.error(exc.keys, f"required variable {exc.name} is not set: {exc}",
                       hint=f"export {exc.name}=... or set it in {path.parent / '.env'}") from None
    except ValueError as exc:
        raise ConfigError(str(exc), file=path, hint="write $$ for a literal $") from None
    parser = _Parser(path, doc, ld, interp)
    parser.inputs = inputs
    services = doc.get("services")
    if not isinstance(services, Mapping) or not services:
        raise ld.error(("services",), "the compose file declares no services",
                       hint="add `services:` with one entry per service")
    top_x = doc.get("x-stackrig") or {}
    if not isinstance(top_x, Mapping):
        raise ld.error(("x-stackrig",), f"expected a mapping, found {_describe(top_x)}",
                       hint="x-stackrig: {faults: true}")
    for key, value in top_x.items():
        if str(key) not in X_STACKRIG_TOP_KEYS:
            raise ld.error(("x-stackrig", key), f"unknown x-stackrig key '{key}'"
                           f"{_did_you_mean(str(key), X_STACKRIG_TOP_KEYS)}",
                           hint=f"use one of: {', '.join(X_STACKRIG_TOP_KEYS)}; per service, x-stackrig goes under it")
        parser.check.type(("x-stackrig", key), value, X_STACKRIG_TOP_KEYS[str(key)][0])
    interp.used.add("COMPOSE_PROFILES")
    active = {*profiles, *(p.strip() for p in env.get("COMPOSE_PROFILES", "").split(",") if p.strip()),
              *(str(p) for p in top_x.get("profiles", []) or [])}
    out: dict[str, ServiceDef] = {}
    taken: dict[str, str] = {}
    skipped: dict[str, str] = {}
    for name in services:
        name = str(name)
        if not _COMPOSE_NAME.match(name):
            raise ld.error(("services", name), f"service name {name!r} is not valid",
                           hint="use letters, digits, '.', '_' and '-'")
        sr = stackrig_name(name)
        if sr in taken:
            raise ld.error(("services", name), f"services '{taken[sr]}' and '{name}' are both '{sr}' in stackrig",
                           hint="rename one of them")
        taken[sr] = name
        sd = parser.service(name, parser.resolved(name, services), sr)
        out[sr] = sd
        if sd.x.get("skip") is True:
            skipped[sr] = "x-stackrig: {skip: true}"
        elif sd.profiles and not set(sd.profiles) & active:
            skipped[sr] = f"profiles {', '.join(sd.profiles)} not active (COMPOSE_PROFILES)"
    for sd in out.values():
        for target, alias in sd.links:  # `links: [db:database]`: `database` names db for this service
            if stackrig_name(target) in out:
                out[stackrig_name(target)].aliases.add(alias)
    notes: list[tuple[Key, Note]] = []
    for key in doc:
        entry = TOP_KEYS.get(str(key))
        if entry and entry[1] == "dropped" and doc[key]:
            notes.append(((key,), Note((key,), f"{key}: dropped — {entry[2]}", "dropped")))
        if entry and entry[1] == "error" and doc[key]:
            raise ld.error((key,), f"top-level `{key}`: {entry[2]}",
                           hint="merge the included services into this file, or run stackrig on each file"
                           if key == "include" else "remove it for stackrig runs")
    for name, unset_keys in interp.unset.items():
        notes.append((unset_keys, Note(unset_keys, f"variable {name} is not set: it was replaced by an empty string "
                                       "(as compose does)", "warning")))
    settings = {k: v for k, v in top_x.items() if k != "profiles"}
    variables = {name: env.get(name) for name in sorted(interp.used)}
    return ComposeDoc(path=path, root=path.parent, located=ld, services=out, settings=settings,
                      profiles=tuple(sorted(active)), notes=notes, inputs=parser.inputs, skipped=skipped,
                      variables=variables)
