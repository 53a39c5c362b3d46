"""`Rig`: the handle tests use on a running stack — URLs, env, ready clients, logs."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._process import tail
from ._record import RunRecord, ServiceInfo
from .errors import StackrigError

if TYPE_CHECKING:
    import httpx

__all__ = ["Rig", "ServiceHandle"]


class ServiceHandle:
    """One service of a running stack: ``rig["db"].url``, ``.port``, ``.env``, ``.logs()``."""

    def __init__(self, info: ServiceInfo, control: str = "") -> None:
        self.info = info
        self._control = control
        self._url: str | None = None  # a per-test URL (isolation = "clone")

    def use_url(self, url: str | None) -> None:
        """Point this handle at another URL (a test's cloned database); None goes back."""
        self._url = url

    def _call(self, op: str) -> None:
        from ._control import control_call

        if not self._control:
            raise StackrigError(f"service '{self.name}' cannot be controlled: this stack has no control channel")
        reply = control_call(self._control, {"op": op, "service": self.name})
        if reply.get("service"):
            self.info = ServiceInfo(**reply["service"])

    def stop(self) -> None:
        """Take the service down (its dependents keep running and see it gone)."""
        self._call("stop")

    def start(self) -> None:
        """Bring a stopped service back on the same port and data; returns when it is ready."""
        self._call("start")

    def restart(self) -> None:
        self._call("restart")

    @property
    def running(self) -> bool:
        from ._record import pid_alive

        return bool(self.info.pids) and all(pid_alive(p) for p in self.info.pids)

    name = property(lambda self: self.info.name)
    kind = property(lambda self: self.info.kind)
    url = property(lambda self: self._url or self.info.url)

    @property
    def direct_url(self) -> str:
        """The URL that bypasses the fault proxy (same as `url` when the service is not behind it)."""
        return self._url or self.info.attributes.get("direct_url") or self.info.url
    host = property(lambda self: self.info.host)
    port = property(lambda self: self.info.port)
    ports = property(lambda self: list(self.info.ports))
    pid = property(lambda self: self.info.pid)
    env = property(lambda self: dict(self.info.exports))

    @property
    def log_path(self) -> Path:
        return Path(self.info.log)

    def logs(self, lines: int = 50) -> str:
        """The last `lines` lines of the service's log."""
        return tail(self.log_path, lines)

    def __getattr__(self, attr: str) -> str:
        info: ServiceInfo | None = self.__dict__.get("info")
        if info is not None and attr in info.attributes:
            return info.attributes[attr]
        raise AttributeError(attr)

    def __repr__(self) -> str:
        return f"<{self.kind} service {self.name!r} at {self.url or '-'}>"


class _Disposable:
    """An engine in the client cache (closed by `dispose`)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine

    def close(self) -> None:
        self.engine.dispose()


class Rig:
    """A running stack, as seen from a test or a script."""

    def __init__(self, record: RunRecord) -> None:
        self.record = record
        self._services = {s.name: ServiceHandle(s, record.control) for s in record.services}
        self._clients: dict[tuple[str, str, str], Any] = {}
        self._faults: Any = None

    @property
    def run_id(self) -> str:
        return self.record.run_id

    @property
    def env(self) -> dict[str, str]:
        """Every variable the services export (``DATABASE_URL``, ...)."""
        return dict(self.record.env)

    @property
    def services(self) -> dict[str, ServiceHandle]:
        return dict(self._services)

    def __getitem__(self, name: str) -> ServiceHandle:
        try:
            return self._services[name]
        except KeyError:
            close = difflib.get_close_matches(name, list(self._services), n=1)
            maybe = f" (did you mean '{close[0]}'?)" if close else ""
            raise StackrigError(f"no service named '{name}' in this stack{maybe}; services: "
                                f"{', '.join(self._services)}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._services

    def _client(self, kind: str, name: str, make: Any) -> Any:
        key = (kind, name, self[name].url)
        if key not in self._clients:
            self._clients[key] = make()
        return self._clients[key]

    def forget_clients(self, name: str) -> None:
        """Close the cached clients of one service (its URL changed)."""
        for key in [k for k in self._clients if k[1] == name]:
            try:
                self._clients.pop(key).close()
            except Exception:
                pass

    def http(self, name: str, **kwargs: Any) -> httpx.Client:
        """An httpx client whose base URL is the service's URL (cached per service)."""
        import httpx

        svc = self[name]
        if kwargs:
            return httpx.Client(base_url=svc.url, **kwargs)
        return self._client("http", name, lambda: httpx.Client(base_url=svc.url, timeout=30))  # type: ignore[no-any-return]

    def sql(self, name: str) -> Any:
        """A psycopg 3 connection (autocommit) to a postgres service (cached per service)."""
        svc = self[name]
        if svc.kind != "postgres":
            raise StackrigError(f"rig.sql({name!r}): service '{name}' is a {svc.kind} service, not postgres")
        try:
            import psycopg
        except ImportError:
            raise StackrigError("rig.sql() needs psycopg 3", hint="pip install 'psycopg[binary]'") from None

        def connect() -> Any:  # the test's back door: never through the fault proxy
            return psycopg.connect(svc.direct_url, autocommit=True)

        conn = self._client("sql", name, connect)
        if conn.closed or conn.broken:
            conn = self._clients[("sql", name, svc.url)] = connect()  # key: the client cache's
        return conn

    def redis(self, name: str) -> Any:
        """A redis-py client (decode_responses=True) for a redis service (cached per service)."""
        svc = self[name]
        if svc.kind != "redis":
            raise StackrigError(f"rig.redis({name!r}): service '{name}' is a {svc.kind} service, not redis")
        try:
            import redis
        except ImportError:
            raise StackrigError("rig.redis() needs redis-py", hint="pip install redis") from None
        return self._client("redis", name, lambda: redis.Redis.from_url(svc.direct_url, decode_responses=True))

    def stub(self, name: str) -> Any:
        """The client of an http-stub service (:class:`stackrig.stub.StubClient`): stubs, verify, journal."""
        from .stub import StubClient

        svc = self[name]
        if svc.kind != "http-stub":
            raise StackrigError(f"rig.stub({name!r}): service '{name}' is a {svc.kind} service, not http-stub")
        return self._client("stub", name, lambda: StubClient(svc.direct_url))

    def reset_stubs(self) -> None:
        """Every http-stub back to its mapping files, journal and scenarios cleared (after each test)."""
        for name, svc in self._services.items():
            if svc.kind == "http-stub" and svc.running:
                self.stub(name).reset()

    def reset_mailboxes(self) -> None:
        """Empty every smtp service's mailbox (after each test)."""
        for name, svc in self._services.items():
            if svc.kind == "smtp":
                self.mail(name).clear()

    def fault(self, name: str) -> Any:
        """The fault proxy in front of a service (:class:`stackrig.faults.Fault`): latency, down, ..."""

        svc = self[name]
        if not svc.info.proxied or not self.faults:
            raise StackrigError(f"rig.fault({name!r}): service '{name}' is not behind the fault proxy",
                                hint=f"set `faults = true` in [services.{name}] (or in [stackrig] for all)")
        return self.faults.proxy(name)

    @property
    def faults(self) -> Any:
        """The run's fault proxy (:class:`stackrig.faults.FaultClient`, cached), or None."""
        if not self.record.faults_api:
            return None
        if self._faults is None:
            from .faults import FaultClient

            self._faults = FaultClient(self.record.faults_api)
        return self._faults

    # -- test data --------------------------------------------------------------
    def _postgres(self, name: str | None, what: str) -> ServiceHandle:
        if name is None:
            names = [n for n, s in self._services.items() if s.kind == "postgres"]
            if len(names) != 1:
                raise StackrigError(f"{what}: name the postgres service, e.g. {what}(..., service='db'); "
                                    f"postgres services here: {', '.join(names) or 'none'}")
            name = names[0]
        svc = self[name]
        if svc.kind != "postgres":
            raise StackrigError(f"{what}: service '{name}' is a {svc.kind} service, not postgres")
        return svc

    def engine(self, name: str | None = None) -> Any:
        """A SQLAlchemy engine on a postgres service (psycopg 3 driver; cached per URL)."""
        from sqlalchemy import create_engine

        from ._factories import sqlalchemy_url

        svc = self._postgres(name, "rig.engine")
        make = lambda: _Disposable(create_engine(sqlalchemy_url(svc.direct_url)))  # noqa: E731
        return self._client("engine", svc.name, make).engine

    def factory(self, factory_cls: Any, service: str | None = None) -> Any:
        """Bind a factory_boy SQLAlchemyModelFactory (and its sub-factories) to the service's database,
        committing, so the app under test sees the rows; the per-test reset removes them."""
        from sqlalchemy.orm import Session

        from ._factories import bind_factory

        svc = self._postgres(service, "rig.factory")
        session = self._client("factory-session", svc.name, lambda: Session(self.engine(svc.name)))
        return bind_factory(factory_cls, session)

    def end_test(self) -> None:
        """Close what lives for one test (factory sessions), so nothing holds locks across the reset."""
        for key in [k for k in self._clients if k[0] == "factory-session"]:
            try:
                self._clients.pop(key).close()
            except Exception:
                pass

    def transaction(self, service: str | None = None) -> Any:
        """A psycopg connection inside a transaction rolled back when the block ends (commits are
        savepoints): ``with rig.transaction() as conn: ...`` — for isolation = "transaction"."""
        from .isolation import pg_transaction

        return pg_transaction(self._postgres(service, "rig.transaction").direct_url)

    def session(self, service: str | None = None, **kwargs: Any) -> Any:
        """A SQLAlchemy Session whose commits are savepoints of a transaction rolled back at the end:
        ``with rig.session() as s: ...``."""
        from .isolation import sqlalchemy_session

        return sqlalchemy_session(self.engine(service), **kwargs)

    def mail(self, name: str) -> Any:
        """The captured messages of an smtp service (:class:`stackrig.mail.Mailbox`)."""
        from .mail import Mailbox

        svc = self[name]
        if svc.kind != "smtp":
            raise StackrigError(f"rig.mail({name!r}): service '{name}' is a {svc.kind} service, not smtp")
        return Mailbox(svc.info.attributes["mailbox"], service=name)

    def close(self) -> None:
        """Close every client handed out."""
        if self._faults is not None:
            self._faults.close()
            self._faults = None
        for client in self._clients.values():
            try:
                client.close()
            except Exception:
                pass
        self._clients.clear()

    def __repr__(self) -> str:
        return f"<Rig {self.run_id}: {', '.join(self._services)}>"
