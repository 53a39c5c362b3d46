"""Rewrite compose addresses to stackrig's: ``test-database:5432`` → ``127.0.0.1:${test-database.port}``.

Inside compose, services reach each other by name (and by `container_name`, `hostname`, network
aliases, `links` aliases, static addresses) on their *container* ports.  stackrig runs them on
allocated ports of 127.0.0.1, so every ``NAME:CONTAINER_PORT`` — in URLs (``postgresql://u:p@db/app``,
whose port is the scheme's default) and in bare ``host:port`` values — becomes a reference to the
port the kind allocated (``${db.port}``, ``${broker.management_port}``).  A variable holding only a
service name (``DB_HOST=db``) becomes ``127.0.0.1`` and its companion port variable (``DB_PORT``)
the allocated port — added when the compose file relied on the client's default port.  A process's
own container port (``PORT=8000``, ``--port 8000``, ``0.0.0.0:8000``, ``localhost:8000``) becomes
``${self.port}``.  ``host.docker.internal`` is this machine: ``127.0.0.1``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ._hook import Key, Note, Unsupported

__all__ = ["AddressBook", "Target", "escape", "own_port_args"]

# URL schemes (not kinds) and the port their clients use when the URL names none
SCHEME_PORTS = {scheme: int(port) for scheme, _, port in (item.partition(":") for item in (
    "http:80 ws:80 https:443 wss:443 postgres:5432 postgresql:5432 postgresql+psycopg:5432 "
    "postgresql+psycopg2:5432 postgresql+asyncpg:5432 redis:6379 rediss:6379 amqp:5672 amqps:5671 nats:4222 "
    "tls:4222 mqtt:1883 mqtts:8883 tcp:1883 smtp:25 mongodb:27017 mysql:3306").split())}
LOCAL_HOSTS = ("localhost", "127.0.0.1", "0.0.0.0", "::", "[::]", "[::1]", "::1")
DOCKER_HOST = ("host.docker.internal", "gateway.docker.internal", "docker.for.mac.localhost")
_URL = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<user>[^@/\s?#]*@)?"
                  r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::(?P<port>\d{1,5}))?(?![\w.-])")
_HOST_SUFFIXES = ("_HOSTNAME", "_HOST", "_SERVER", "_ADDRESS", "_ADDR", "HOST")


def escape(text: str) -> str:
    """A literal value for the stack file: ``${`` (which stackrig would resolve) written ``$${``."""
    return text.replace("${", "$${")


@dataclass(frozen=True)
class Target:
    """A service others may address: its stackrig name, container port -> attribute."""

    service: str
    ports: Mapping[int, str]
    primary: str = "port"


@dataclass
class AddressBook:
    targets: dict[str, Target]  # alias -> target (every name a service answers to)
    skipped: set[str] = field(default_factory=set)  # aliases of services stackrig does not run
    notes: list[tuple[str, Note]] = field(default_factory=list)  # (owner, note)

    def __post_init__(self) -> None:
        names = sorted({*self.targets, *self.skipped, *LOCAL_HOSTS, *DOCKER_HOST}, key=len, reverse=True)
        alternatives = "|".join(re.escape(n) for n in names)
        self._bare = re.compile(rf"(?<![\w.@/:$-])(?P<host>{alternatives}):(?P<port>\d{{1,5}})(?![\w.])")

    # -- one string -----------------------------------------------------------------------
    def rewrite(self, text: str, owner: str, where: Key, own_ports: Iterable[int] = ()) -> str:
        """`text` with every compose address replaced; `own_ports`: the owner's container ports."""
        own = tuple(own_ports)

        def host_port(host: str, port: int | None, explicit: bool, original: str) -> str | None:
            lower = host.lower()
            if lower in DOCKER_HOST:
                return f"127.0.0.1:{port}" if explicit else "127.0.0.1"
            if lower in LOCAL_HOSTS or (host in self.targets and self.targets[host].service == owner):
                if port is not None and own and port == own[0]:
                    return f"{host if lower in LOCAL_HOSTS else '127.0.0.1'}:${{self.port}}"
                return None
            if host in self.skipped:
                self.notes.append((owner, Note(where, f"{original!r} points at '{host}', which stackrig does not "
                                                      "run: left as is", "warning")))
                return None
            target = self.targets.get(host)
            if target is None or port is None:
                return None
            attr = target.ports.get(port)
            if attr is None:
                known = ", ".join(f"{p} (${{{target.service}.{a}}})" for p, a in target.ports.items()) or "none"
                raise Unsupported(where, f"{original!r} refers to port {port} of service '{target.service}', which "
                                         f"stackrig does not serve (its ports: {known})",
                                  hint=f"point it at one of those ports, or set it with x-stackrig.env on "
                                       f"'{owner}' using ${{{target.service}.url}} or ${{{target.service}.port}}")
            return f"127.0.0.1:${{{target.service}.{attr}}}"

        def url(m: re.Match[str]) -> str:
            scheme = m.group("scheme").lower()
            port_text = m.group("port")
            port = int(port_text) if port_text else SCHEME_PORTS.get(scheme)
            new = host_port(m.group("host"), port, port_text is not None, m.group(0))
            if new is None:
                return m.group(0)
            return f"{m.group('scheme')}://{m.group('user') or ''}{new}"

        out: list[str] = []
        pos = 0
        for m in _URL.finditer(text):
            out.append(self._bare_sub(text[pos:m.start()], host_port))
            out.append(url(m))
            pos = m.end()
        out.append(self._bare_sub(text[pos:], host_port))
        return "".join(out)

    def _bare_sub(self, text: str, host_port: object) -> str:
        fn = host_port  # (host, port, explicit, original) -> str | None

        def sub(m: re.Match[str]) -> str:
            new = fn(m.group("host"), int(m.group("port")), True, m.group(0))  # type: ignore[operator]
            return m.group(0) if new is None else str(new)

        return self._bare.sub(sub, text) if text else text

    # -- an environment ---------------------------------------------------------------------
    def rewrite_env(self, env: Mapping[str, str], owner: str, where: Mapping[str, Key], own_ports: Iterable[int],
                    app: bool, port_var: str | None = None) -> tuple[dict[str, str], set[str], list[Note]]:
        """(the rewritten variables, those that now point at other services, notes)."""
        own = tuple(own_ports)
        out = dict(env)
        pointing: set[str] = set()
        notes: list[Note] = []
        paired: set[str] = set()
        for key, value in env.items():
            target = self.targets.get(value.strip())
            if target is None or target.service == owner or not app or not _is_host_var(key):
                continue  # only a host variable (DB_HOST, PGHOST, SMTP_SERVER) names a host: DB_USER=postgres stays
            out[key] = "127.0.0.1"
            pointing.add(key)
            notes.append(Note(where.get(key, ("environment", key)), f"{key}={value} → 127.0.0.1"))
            port_key = _port_var(key, env)
            if port_key in env:
                port_text = env[port_key].strip()
                attr = target.ports.get(int(port_text)) if port_text.isdigit() else None
                if attr is None:
                    notes.append(Note(where.get(port_key, ("environment", port_key)),
                                      f"{port_key}={port_text} is no port of '{target.service}': left as is",
                                      "warning"))
                    continue
                out[port_key] = f"${{{target.service}.{attr}}}"
            else:
                out[port_key] = f"${{{target.service}.{target.primary}}}"
                notes.append(Note(where.get(key, ("environment", key)),
                                  f"{port_key} added with '{target.service}''s port: in compose the client used its "
                                  "default port, which stackrig does not use", "warning"))
            paired.add(port_key)
            pointing.add(port_key)
        for key, value in env.items():
            if key in paired or key in pointing:
                continue
            stripped = value.strip()
            if app and own and (key == port_var or (stripped.isdigit() and int(stripped) == own[0])):
                out[key] = "${self.port}"
                notes.append(Note(where.get(key, ("environment", key)), f"{key}={value} → the allocated port "
                                  "(${self.port})"))
                continue
            new = self.rewrite(value, owner, where.get(key, ("environment", key)), own if app else ())
            if new != value:
                out[key] = new
                if re.search(r"\$\{(?!self\.)[^}]+\}", new):
                    pointing.add(key)
                notes.append(Note(where.get(key, ("environment", key)), f"{key}: {value} → {new}"))
        if app and port_var and port_var not in env and own:
            out[port_var] = "${self.port}"
        return out, pointing, notes


def _is_host_var(name: str) -> bool:
    return name.upper().endswith(("HOST", "HOSTNAME", "SERVER", "ADDR", "ADDRESS"))


def _port_var(host_var: str, env: Mapping[str, str]) -> str:
    for suffix in _HOST_SUFFIXES:
        if host_var.endswith(suffix):
            stem = host_var[: -len(suffix)]
            for candidate in (f"{stem}_PORT", f"{stem}PORT"):
                if candidate in env:
                    return candidate
            return f"{stem}_PORT" if suffix.startswith("_") else f"{stem}PORT"
    return f"{host_var}_PORT"




def own_port_args(argv: list[str], port: int) -> tuple[list[str], bool]:
    """`argv` with the process's own container port given as ``${self.port}`` where a flag passes it
    (``--port 8000``, ``--port=8000``, ``-Dserver.port=8000``, ``:8000``, ``0.0.0.0:8000``)."""
    out: list[str] = []
    changed = False
    text = str(port)
    for i, arg in enumerate(argv):
        new = arg
        if arg == text and i > 0:  # `--port 8000`, or positional: `python -m http.server 8000`
            new = "${self.port}"
        else:
            new = re.sub(rf"(?i)((?:port|^-p)=){text}(?!\d)", r"\g<1>${self.port}", new)
            new = re.sub(rf"(^|[\s=])((?:0\.0\.0\.0|127\.0\.0\.1|localhost|\[::\]|::)?):{text}(?!\d)",
                         r"\g<1>\g<2>:${self.port}", new)
        changed = changed or new != arg
        out.append(new)
    return out, changed


def own_port_text(text: str, port: int) -> tuple[str, bool]:
    """The same for a shell command line."""
    p = str(port)
    new = re.sub(rf"((?:^|\s)(?:-p|--port|--http-port|--listen-port|-port)\s+){p}(?!\d)", r"\g<1>${self.port}", text)
    new = re.sub(rf"(?i)(port=){p}(?!\d)", r"\g<1>${self.port}", new)
    new = re.sub(rf"(?<=\s){p}(?=\s|$|;|&)", "${self.port}", new)  # positional: `http.server 8000`
    new = re.sub(rf"(^|[\s=\"'])((?:0\.0\.0\.0|127\.0\.0\.1|localhost|\[::\]|::)?):{p}(?!\d)",
                 r"\g<1>\g<2>:${self.port}", new)
    return new, new != text
