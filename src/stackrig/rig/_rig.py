"""`Rig`: the handle tests use on a running stack — URLs, env, ready clients, faults, logs.

Clients come from the service's kind, by capability (``rig.sql("db")`` asks the kind of
``db`` for its ``"sql"`` client), so the rig names no kind; a kind from another package adds
capabilities that ``rig.client(name, capability)`` hands out.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from .._runlog import append_run_log
from ..errors import ServiceNotFound, StackrigError
from ..run import RunRecord
from ..services import ServiceKind, registry
from ._handle import ServiceHandle

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    import httpx
    import psycopg
    import redis
    import sqlalchemy
    import sqlalchemy.orm
    import websockets.sync.client

    from ..events import QueueClient, Tap
    from ..faults import Fault, FaultClient
    from ..load import LoadResult
    from ..mail import Mailbox
    from ..pact import VerificationReport
    from ..scan import ScanResult
    from ..stub import StubClient

__all__ = ["Rig"]


class Rig:
    """A running stack, as seen from a test or a script."""

    def __init__(self, record: RunRecord) -> None:
        self.record = record
        self._services = {s.name: ServiceHandle(s, record.control, self.forget_clients) for s in record.services}
        self._clients: dict[tuple[str, str, str], Any] = {}
        self._faults: FaultClient | None = None
        self._taps: list[Tap] = []  # made during the current test (closed at its end)
        self._sockets: list[Any] = []  # WebSocket connections of the current test
        self.problems: list[str] = []  # clean-up failures: in the run's log and the session's summary
        self.results: list[Any] = []  # what rig.load() and rig.scan() returned: the run's report shows them

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
            raise ServiceNotFound(f"no service named '{name}' in this stack{maybe}; services: "
                                  f"{', '.join(self._services)}", service=name,
                                  available=list(self._services)) from None

    def __contains__(self, name: object) -> bool:
        return name in self._services

    def problem(self, message: str) -> None:
        """Something failed that must not fail a test (closing a client): say it, don't swallow it."""
        self.problems.append(message)
        append_run_log(self.record.logs_dir, message)

    # -- clients, from the kinds -----------------------------------------------------------
    def kind_of(self, name: str) -> ServiceKind:
        return registry().get(self[name].kind)

    def _factory(self, name: str, capability: str, what: str) -> Callable[[ServiceHandle], Any]:
        kind = self.kind_of(name)
        factory = kind.clients.get(capability)
        if factory is None:
            offers = ", ".join(kind.clients) or "no clients"
            others = [n for n, s in self._services.items() if capability in self.kind_of(n).clients]
            raise StackrigError(
                f"{what}({name!r}): service '{name}' is a {kind.name} service, which offers {offers}, "
                f"not {capability!r}",
                hint=f"use it on a service that offers {capability!r}: {', '.join(others)}" if others
                else f"no service in this stack offers {capability!r}")
        return factory

    def _cached(self, name: str, capability: str, what: str, part: str | None = None) -> Any:
        factory = self._factory(name, capability, what)
        endpoint: Any = self[name] if part is None else self[name].part(part)
        key = (capability, name, endpoint.url)
        if key not in self._clients:
            self._clients[key] = factory(endpoint)
        return self._clients[key]

    def client(self, name: str, capability: str | None = None) -> Any:
        """The client the service's kind offers for `capability` (its first one when None), cached."""
        if capability is None:
            kind = self.kind_of(name)
            if not kind.clients:
                raise StackrigError(f"rig.client({name!r}): a {kind.name} service offers no client",
                                    hint=f"use rig.http({name!r}) or rig[{name!r}].url")
            capability = next(iter(kind.clients))
        return self._cached(name, capability, "rig.client")

    def forget_clients(self, name: str) -> None:
        """Close the cached clients of one service (its URL changed)."""
        for key in [k for k in self._clients if k[1] == name]:
            self._close(self._clients.pop(key), f"a {key[0]} client of '{name}'")

    def _close(self, client: Any, what: str) -> None:
        close = getattr(client, "close", None)
        if close is None:  # a kind's client with nothing to close
            return
        try:
            close()
        except Exception as exc:  # noqa: BLE001 - reported, not swallowed
            self.problem(f"closing {what} failed: {type(exc).__name__}: {exc}")

    def http(self, name: str, **kwargs: Any) -> httpx.Client:
        """An httpx client whose base URL is the service's URL (cached per service unless `kwargs`)."""
        import httpx

        svc = self[name]
        if kwargs:
            return httpx.Client(base_url=svc.url, **kwargs)
        key = ("http", name, svc.url)
        if key not in self._clients:
            self._clients[key] = httpx.Client(base_url=svc.url, timeout=30)
        return cast("httpx.Client", self._clients[key])

    def sql(self, name: str, database: str | None = None) -> psycopg.Connection[Any]:
        """A psycopg 3 connection (autocommit) to the service's database — or to another database
        of the server (`databases.NAME`) — on the test's back door (never through the fault proxy);
        cached, reopened when it broke."""
        part = self._part(name, database)
        conn = self._cached(name, "sql", "rig.sql", part)
        if getattr(conn, "closed", False) or getattr(conn, "broken", False):
            url = self[name].url if part is None else self[name].part(part).url
            self._clients.pop(("sql", name, url), None)
            conn = self._cached(name, "sql", "rig.sql", part)
        return cast("psycopg.Connection[Any]", conn)

    def redis(self, name: str) -> redis.Redis:
        """A redis-py client (``decode_responses=True``), cached per service."""
        return cast("redis.Redis", self._cached(name, "redis", "rig.redis"))

    def stub(self, name: str) -> StubClient:
        """The client of an http-stub service: stubs, verify, journal, recordings."""
        return cast("StubClient", self._cached(name, "stub", "rig.stub"))

    def mail(self, name: str) -> Mailbox:
        """The captured messages of an smtp service."""
        return cast("Mailbox", self._factory(name, "mail", "rig.mail")(self[name]))

    # -- events -------------------------------------------------------------------------
    def events(self, name: str, pattern: str, **options: Any) -> Tap:
        """A tap on the service's broker: every message published on `pattern` (the broker's own
        syntax: NATS subjects, MQTT topic filters, AMQP routing keys, Redis channel patterns) from
        now until the end of the test, copied — the application's consumers still get them."""
        tap = cast("Tap", self._cached(name, "events", "rig.events").tap(pattern, **options))
        self._taps.append(tap)
        return tap

    def publish(self, name: str, subject: str, body: Any, headers: dict[str, str] | None = None,
                **options: Any) -> None:
        """Publish one message on the service's broker (dicts and lists as JSON)."""
        self._cached(name, "events", "rig.publish").publish(subject, body, headers, **options)

    def queue(self, name: str, queue: str) -> QueueClient:
        """A queue of the service, to peek at or consume from (where a tap cannot copy: SQS)."""
        return cast("QueueClient", self._cached(name, "queues", "rig.queue").queue(queue))

    def websocket(self, name: str, path: str = "/", **kwargs: Any) -> websockets.sync.client.ClientConnection:
        """A WebSocket connection to the service (``ws://host:port/path``): ``.send()``, ``.recv(timeout)``;
        closed at the end of the test (or use it in a ``with``)."""
        try:
            from websockets.sync.client import connect
        except ImportError:
            raise StackrigError("rig.websocket() needs the websockets package", hint="pip install websockets") from None
        url = self[name].url
        scheme, sep, rest = url.partition("://")
        ws_url = ("wss" if scheme == "https" else "ws") + sep + rest.rstrip("/") + "/" + path.lstrip("/")
        conn = connect(ws_url, **kwargs)
        self._sockets.append(conn)
        return conn

    @property
    def taps(self) -> list[Tap]:
        """The taps made during the current test."""
        return list(self._taps)

    def close_taps(self) -> None:
        """End what a test opened for itself: its taps and WebSocket connections."""
        taps, self._taps = self._taps, []
        for tap in taps:
            self._close(tap, f"the tap on '{tap.service}' ({tap.pattern})")
        sockets, self._sockets = self._sockets, []
        for conn in sockets:
            self._close(conn, "a WebSocket connection")

    # -- faults ---------------------------------------------------------------------------
    def fault(self, name: str) -> Fault:
        """The fault proxy in front of a service: latency, down, bandwidth, ..."""
        svc = self[name]
        faults = self.faults
        if not svc.info.proxied or faults is None:
            raise StackrigError(f"rig.fault({name!r}): service '{name}' is not behind the fault proxy",
                                hint=f"set `faults = true` in [services.{name}] (or in [stackrig] for all)")
        return faults.proxy(name)

    @property
    def faults(self) -> FaultClient | None:
        """The run's fault proxy client (cached), or None when no service is behind it."""
        if not self.record.faults_api:
            return None
        if self._faults is None:
            from ..faults import FaultClient

            self._faults = FaultClient(self.record.faults_api)
        return self._faults

    # -- test data --------------------------------------------------------------------------
    def _only(self, name: str | None, capability: str, what: str) -> str:
        """`name`, or the one service offering `capability` when None."""
        if name is not None:
            self._factory(name, capability, what)
            return name
        names = [n for n, s in self._services.items() if capability in self.kind_of(n).clients]
        if len(names) != 1:
            raise StackrigError(f"{what}: name the service, e.g. {what}(..., service='db'); services offering "
                                f"{capability!r} here: {', '.join(names) or 'none'}")
        return names[0]

    def _part(self, name: str, database: str | None) -> str | None:
        """`database` when it names another database of the server than the service's own."""
        return database if database not in (None, self[name].attributes.get("database")) else None

    def engine(self, name: str | None = None, database: str | None = None) -> sqlalchemy.Engine:
        """A SQLAlchemy engine on the service's database — or on another database of the server
        (`databases.NAME`) — cached per URL."""
        name = self._only(name, "sqlalchemy", "rig.engine")
        return cast("sqlalchemy.Engine",
                    self._cached(name, "sqlalchemy", "rig.engine", self._part(name, database)).engine)

    def factory(self, factory_cls: Any, service: str | None = None, database: str | None = None) -> Any:
        """Bind a factory_boy SQLAlchemyModelFactory (and its sub-factories) to the service's database
        (or `database`, another of the server's), committing, so the app under test sees the rows; the
        per-test reset removes them."""
        from sqlalchemy.orm import Session

        from ._factories import bind_factory

        name = self._only(service, "sqlalchemy", "rig.factory")
        engine = self.engine(name, database)
        key = ("factory-session", name, str(engine.url))
        if key not in self._clients:
            self._clients[key] = Session(engine)
        return bind_factory(factory_cls, self._clients[key])

    def end_test(self) -> None:
        """Close what lives for one test (factory sessions), so nothing holds locks across the reset."""
        for key in [k for k in self._clients if k[0] == "factory-session"]:
            self._close(self._clients.pop(key), f"the factory session of '{key[1]}'")

    def transaction(self, service: str | None = None) -> AbstractContextManager[psycopg.Connection[Any]]:
        """A psycopg connection inside a transaction rolled back when the block ends (commits are
        savepoints): ``with rig.transaction() as conn: ...`` — for isolation = "transaction"."""
        name = self._only(service, "transaction", "rig.transaction")
        return cast("AbstractContextManager[psycopg.Connection[Any]]",
                    self._factory(name, "transaction", "rig.transaction")(self[name]))

    def session(self, service: str | None = None, database: str | None = None,
                **kwargs: Any) -> AbstractContextManager[sqlalchemy.orm.Session]:
        """A SQLAlchemy Session whose commits are savepoints of a transaction rolled back at the end:
        ``with rig.session() as s: ...`` (`database`: another database of the server)."""
        from ..isolation import sqlalchemy_session

        session = sqlalchemy_session(self.engine(service, database), **kwargs)
        return cast("AbstractContextManager[sqlalchemy.orm.Session]", session)

    # -- load ---------------------------------------------------------------------------------
    def load(self, name: str, locustfile: str | os.PathLike[str], *, users: int = 10,
             spawn_rate: float | None = None, duration: float | str = "10s",
             thresholds: Iterable[str] | Mapping[str, str | Sequence[str]] = (),
             out: str | os.PathLike[str] | None = None, **options: Any) -> LoadResult:
        """Run a Locust file headless against the service's URL (in a child process: this one is
        not monkey-patched) and return what it measured: per request name and ``"all"``, and each
        k6-style threshold's verdict. A failed threshold raises nothing: ``assert result.ok``, or
        ``result.assert_ok()`` for a message with the table. The charts, ``result.json`` and
        Locust's log go to `out`, by default ``.stackrig/runs/<run-id>/load/<timestamp>-<name>/``."""
        import time

        from ..load import run_load

        url = self[name].url  # the public URL: through the fault proxy when the service is behind it
        if out is None:
            base = os.path.join(os.path.dirname(self.record.logs_dir), "load",
                                f"{time.strftime('%Y%m%d-%H%M%S')}-{name}")
            out, n = base, 1
            while os.path.exists(out):
                n += 1
                out = f"{base}-{n}"
        result = run_load(locustfile, url, users=users, spawn_rate=spawn_rate, duration=duration,
                          thresholds=thresholds, out=out, **options)
        self.results.append((name, result))
        return result

    # -- security scans -------------------------------------------------------------------
    def scan(self, name: str, openapi: str | None = None,
             auth: str | Sequence[str] | Mapping[str, str] | None = None,
             checks: Iterable[str] | str | None = None, **options: Any) -> ScanResult:
        """A security scan of the service, as `stackrig scan NAME` makes: Schemathesis plus stackrig's
        checks over its OpenAPI schema (default: the service's URL + /openapi.json). `options` go to
        :func:`stackrig.scan.run_scan` (delay, jwt_secret, max_examples, seed, phases, ...)."""
        from ..scan import run_scan

        svc = self[name]
        if not svc.url.startswith(("http://", "https://")):
            raise StackrigError(f"rig.scan({name!r}): service '{name}' has no HTTP URL (its URL: {svc.url or 'none'})",
                                hint="scan a service that answers HTTP")
        result = run_scan(svc.url, openapi=openapi, auth=auth, checks=checks, **options)
        self.results.append((name, result))
        return result

    # -- contracts -------------------------------------------------------------------------
    def pact_verify(self, *pacts: str | os.PathLike[str], provider: str, states: Any = None,
                    broker: str | None = None, reset: Callable[[], object] | None = None, check: bool = True,
                    **options: Any) -> VerificationReport:
        """Verify pact files (V3/V4; files or folders) against service `provider` with the real Pact
        verifier, the stack's data reset before every interaction (over the control channel unless
        `reset` is given); states from `states` or the stack file's `pact_states`; `broker`: the service
        whose taps see the provider's messages. Raises PactVerificationFailed unless `check=False`."""
        from ..pact import configured_states, verify_with_rig
        from ..services import load_stack

        if reset is None and self.record.control:
            from ..run import control_call

            control = self.record.control

            def reset() -> None:
                control_call(control, {"op": "reset", "label": "rig.pact_verify"})

        stack = load_stack(self.record.stack_file) if self.record.stack_file else None
        report = verify_with_rig(self, [os.fspath(p) for p in pacts], provider=provider, states=states,
                                 broker=broker, reset=reset, configured_states=configured_states(stack, provider),
                                 **options)
        self.results.append((provider, report))
        return report.raise_for_failures() if check else report

    def close(self) -> None:
        """Close every client handed out."""
        self.close_taps()
        if self._faults is not None:
            self._close(self._faults, "the fault proxy client")
            self._faults = None
        for key, client in list(self._clients.items()):
            self._close(client, f"a {key[0]} client of '{key[1]}'")
        self._clients.clear()

    def __repr__(self) -> str:
        return f"<Rig {self.run_id}: {', '.join(self._services)}>"
