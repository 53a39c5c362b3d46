"""`postgres:13` in a compose file as `kind = "postgres"` (docs/compose.md).

The official image's variables (``POSTGRES_DB``, ``POSTGRES_USER``, ``POSTGRES_PASSWORD`` and their
``_FILE`` forms) become the keys; ``/docker-entrypoint-initdb.d`` — a mounted folder or single files
— becomes `init`, in the image's order (by name): ``*.sql`` through psql, ``*.sql.gz`` decompressed
into psql, ``*.sh`` run with bash and the variables the image gives them (``POSTGRES_USER``, ...,
and ``PGHOST``/``PGPORT`` so their ``psql`` reaches the server).  ``postgres -c key=value`` flags and a
mounted ``config_file`` become `settings`.  The tag is the version preference.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path, PurePosixPath
from typing import Any

from ...compose import ComposeImage, ComposeMapping, ComposeService, Unsupported

__all__ = ["IMAGE"]

INITDB = "/docker-entrypoint-initdb.d"
_DATA = ("/var/lib/postgresql/data", "/var/lib/postgresql")
_SETTING = re.compile(r"^\s*([A-Za-z_.]+)\s*=?\s*(.*?)\s*(?:#.*)?$")


def _init_items(svc: ComposeService, m: ComposeMapping) -> list[tuple[str, Path]]:
    """(name in the init folder, local file) for every script the image would run."""
    found: dict[str, Path] = {}
    for v in svc.volumes:
        if v.path is None:
            continue
        target = PurePosixPath(v.target)
        if str(target) == INITDB:
            m.used_volumes.add(v.index)
            if not v.path.is_dir():
                m.warn(("volumes", v.index), f"{svc.relative(v.path)} does not exist: no init scripts")
                continue
            for f in sorted(v.path.iterdir()):
                if f.is_file():
                    found[f.name] = f
        elif str(target.parent) == INITDB:
            m.used_volumes.add(v.index)
            found[target.name] = v.path
    return sorted(found.items())


def _settings(svc: ComposeService, m: ComposeMapping) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    argv = list(svc.command or ())
    if not argv:
        return settings
    m.used_command = True
    if argv and PurePosixPath(argv[0]).name in ("postgres", "docker-entrypoint.sh"):
        argv = argv[1:]
    i = 0
    while i < len(argv):
        arg = argv[i]
        value: str | None = None
        if arg == "-c" and i + 1 < len(argv):
            value, i = argv[i + 1], i + 2
        elif arg.startswith("--") and "=" in arg:
            value, i = arg[2:], i + 1
        elif arg.startswith("-c") and len(arg) > 2:
            value, i = arg[2:], i + 1
        else:
            m.warn(("command", i), f"postgres flag {arg!r}: dropped — only -c key=value settings are mapped")
            i += 1
            continue
        key, _, setting = value.partition("=")
        key = key.replace("-", "_")
        if key == "config_file":
            local = svc.local(setting)
            if local is None or not local.is_file():
                raise Unsupported(("command",), f"config_file {setting} is not a mounted file",
                                  hint="bind-mount the file at that path, or give the settings as -c key=value")
            for line in local.read_text(encoding="utf-8", errors="replace").splitlines():
                mm = _SETTING.match(line)
                if mm and mm.group(2) and not line.lstrip().startswith("#"):
                    settings[mm.group(1)] = mm.group(2).strip("'\"")
            for v in svc.volumes:
                if v.target == setting:
                    m.used_volumes.add(v.index)
            m.mapped(("command",), f"config_file {setting} → settings ({len(settings)} lines)")
        elif key in ("hba_file", "ident_file", "data_directory", "listen_addresses", "port", "unix_socket_directories"):
            m.dropped(("command",), f"-c {key}: stackrig sets it for the local server")
        else:
            settings[key] = setting
    if settings:
        m.mapped(("command",), f"-c flags → settings ({', '.join(sorted(settings))})")
    return settings


def to_stack(svc: ComposeService) -> ComposeMapping:
    m = ComposeMapping()
    env = m.take(svc, ("POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_HOST_AUTH_METHOD"))
    user = env.get("POSTGRES_USER") or "postgres"
    database = env.get("POSTGRES_DB") or user  # the image's default: the user's name
    table: dict[str, Any] = {"database": database, "user": user}
    m.mapped(("environment",), f"POSTGRES_DB/POSTGRES_USER → database = {database!r}, user = {user!r}")
    if env.get("POSTGRES_PASSWORD"):
        table["password"] = env["POSTGRES_PASSWORD"]
        m.mapped(("environment", "POSTGRES_PASSWORD"), "POSTGRES_PASSWORD → password")
    if "POSTGRES_HOST_AUTH_METHOD" in env:
        m.mapped(("environment", "POSTGRES_HOST_AUTH_METHOD"), "POSTGRES_HOST_AUTH_METHOD: stackrig's server "
                 "trusts 127.0.0.1 already")
    for name in ("POSTGRES_INITDB_ARGS", "POSTGRES_INITDB_WALDIR"):
        if name in svc.environment:
            m.used_env.add(name)
            m.warn(("environment", name), f"{name}: dropped — stackrig initialises its cached cluster itself")
    if "PGDATA" in svc.environment:
        m.used_env.add("PGDATA")
        m.dropped(("environment", "PGDATA"), "PGDATA: the data folder is the run's own")
    init: list[str] = []
    inputs: list[str] = []
    needs_env = False
    for name, local in _init_items(svc, m):
        rel = svc.relative(local)
        if name.endswith(".sql"):
            init.append(rel)
        elif name.endswith(".sql.gz") or name.endswith(".sql.xz"):
            tool = "gzip" if name.endswith(".gz") else "xz"
            init.append(f"{tool} -dc {shlex.quote(rel)} | psql -X -q -v ON_ERROR_STOP=1")
            inputs.append(rel)
            needs_env = True
        elif name.endswith(".sh"):
            init.append(f"bash {shlex.quote(rel)}")
            inputs.append(rel)
            needs_env = True
        else:
            m.dropped(("volumes",), f"{INITDB}/{name}: ignored, as the image ignores it")
    if init:
        table["init"] = init
        m.mapped(("volumes",), f"{INITDB} → init ({', '.join(n for n, _ in _init_items(svc, ComposeMapping()))}), "
                 "run once and cached until a file changes")
    if inputs:
        table["init_inputs"] = inputs
    if needs_env:
        pg_env = {"PGHOST": "127.0.0.1", "PGPORT": "${port}", "PGUSER": user, "PGDATABASE": database,
                  "POSTGRES_USER": user, "POSTGRES_DB": database}
        if env.get("POSTGRES_PASSWORD"):
            pg_env.update(POSTGRES_PASSWORD=env["POSTGRES_PASSWORD"], PGPASSWORD=env["POSTGRES_PASSWORD"])
        table["env"] = pg_env
    for v in svc.volumes:
        if v.index not in m.used_volumes and (v.target in _DATA or v.target == svc.environment.get("PGDATA")):
            m.used_volumes.add(v.index)
            m.dropped(("volumes", v.index), f"{v.target}: the data folder — every run starts from the prepared "
                      "cluster")
    settings = _settings(svc, m)
    if settings:
        table["settings"] = settings
    image = svc.image
    if image is not None and image.repository != "postgres":
        m.warn(("image",), f"{image.repository}: its extensions (CREATE EXTENSION ...) must be installed for the "
               "local PostgreSQL")
    m.table = table
    m.version = image.version if image is not None else None
    return m


IMAGE = ComposeImage(
    images=("postgres", "postgis/postgis", "pgvector/pgvector"),
    ports={5432: "port"},
    map=to_stack,
    summary="`POSTGRES_DB`, `POSTGRES_USER`, `POSTGRES_PASSWORD` (and `_FILE`) → `database`, `user`, `password`; "
            "`/docker-entrypoint-initdb.d/*.sql\\|*.sql.gz\\|*.sh` → `init`; `-c key=value`, `config_file` → "
            "`settings`; data volumes dropped",
)
