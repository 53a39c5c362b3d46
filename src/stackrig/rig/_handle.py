"""`ServiceHandle`: one service of a running stack, as tests see it (``rig["db"]``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from ..errors import StackrigError
from ..run import ServiceInfo, control_call, pid_alive
from ..supervisor import tail

__all__ = ["ServiceHandle"]


class ServiceHandle:
    """``rig["db"].url``, ``.port``, ``.env``, ``.logs()``, ``.stop()``/``.start()``/``.restart()``,
    and every attribute of the service (``rig["db"].database``)."""

    def __init__(self, info: ServiceInfo, control: str = "",
                 on_redirect: Callable[[str], None] | None = None) -> None:
        self.info = info
        self._control = control
        self._url: str | None = None  # a per-test URL (a database cloned for the test)
        self._on_redirect = on_redirect

    # -- the Endpoint protocol (what kinds' clients, resets and slicers see) -------------
    @property
    def name(self) -> str:
        return self.info.name

    @property
    def kind(self) -> str:
        return self.info.kind

    @property
    def url(self) -> str:
        return self._url or self.info.url

    @property
    def direct_url(self) -> str:
        """The URL that bypasses the fault proxy (same as `url` when the service is not behind it)."""
        return self._url or self.info.direct_url

    @property
    def attributes(self) -> Mapping[str, str]:
        return dict(self.info.attributes)

    @property
    def running(self) -> bool:
        return bool(self.info.pids) and all(pid_alive(p) for p in self.info.pids)

    def redirect(self, url: str | None) -> None:
        """Point this handle (and the clients the rig hands out for it) at another URL; None goes back."""
        self._url = url
        if self._on_redirect is not None:
            self._on_redirect(self.name)

    use_url = redirect  # the name earlier versions used

    def part(self, name: str) -> _Part:
        """A named part of the service with its own URL (`${db.url.inventory}`: a database of the
        server), as an Endpoint for the kind's clients."""
        if f"url.{name}" not in self.info.attributes:
            parts = [k.split(".", 1)[1] for k in self.info.attributes if k.startswith("url.")]
            from ..errors import ServiceNotFound

            raise ServiceNotFound(f"service '{self.name}' has no part named '{name}'; parts: "
                                  f"{', '.join(parts) or 'none'}", service=f"{self.name}.{name}", available=parts)
        return _Part(self, name)

    # -- control -------------------------------------------------------------------
    def _call(self, op: str) -> None:
        if not self._control:
            raise StackrigError(f"service '{self.name}' cannot be controlled: this stack has no control channel")
        # the clients the rig handed out stay: tests hold them across a restart, and each kind's client
        # reconnects (an HTTP client does by itself; `rig.sql()` reopens a broken connection)
        reply = control_call(self._control, {"op": op, "service": self.name})
        if reply.get("service"):
            self.info = ServiceInfo.from_json(reply["service"])

    def stop(self) -> None:
        """Take the service down (its dependents keep running and see it gone)."""
        self._call("stop")

    def start(self) -> None:
        """Bring a stopped service back on the same port and data; returns when it is ready."""
        self._call("start")

    def restart(self) -> None:
        self._call("restart")

    # -- what else tests read ------------------------------------------------------------
    @property
    def host(self) -> str:
        return self.info.host

    @property
    def port(self) -> int | None:
        return self.info.port

    @property
    def ports(self) -> list[int]:
        return list(self.info.ports)

    @property
    def pid(self) -> int | None:
        return self.info.pid

    @property
    def env(self) -> dict[str, str]:
        """What the service exports (``DATABASE_URL``, ...)."""
        return dict(self.info.exports)

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
        raise AttributeError(f"service '{info.name if info else '?'}' has no attribute {attr!r}"
                             + (f"; attributes: {', '.join(info.attributes)}" if info else ""))

    def __repr__(self) -> str:
        return f"<{self.kind} service {self.name!r} at {self.url or '-'}>"


class _Part:
    """One part of a service (a database of a PostgreSQL server): the Endpoint its clients see."""

    def __init__(self, handle: ServiceHandle, part: str) -> None:
        self.handle = handle
        self.part = part

    @property
    def name(self) -> str:
        return self.handle.name

    @property
    def kind(self) -> str:
        return self.handle.kind

    @property
    def url(self) -> str:
        return self.handle.info.attributes[f"url.{self.part}"]

    @property
    def direct_url(self) -> str:
        return self.handle.info.attributes.get(f"direct_url.{self.part}", self.url)

    @property
    def attributes(self) -> Mapping[str, str]:
        attrs = dict(self.handle.info.attributes)
        attrs.update(url=self.url, direct_url=self.direct_url, database=self.direct_url.rsplit("/", 1)[-1])
        return attrs

    @property
    def running(self) -> bool:
        return self.handle.running

    def redirect(self, url: str | None) -> None:
        from ..errors import StackrigError

        raise StackrigError(f"service '{self.name}': part '{self.part}' cannot be redirected")
