"""The whole stack: plan every service, then rewrite addresses, order, and publish variables.

Addresses need every service's container ports, so they are rewritten once all are planned.
``depends_on`` keeps compose's order (stackrig waits for each dependency to be *ready*, which is
``service_healthy``; ``service_completed_successfully`` dependencies are one-off jobs, ready once
they exited 0).  What the test process sees (``stackrig env``, ``rig.env``): every variable an
app's environment points at another service (``DATABASE_URL``, rewritten), and ``<NAME>_URL`` for
every service with a port (``TEST_DATABASE_URL``, ``APP_URL``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError
from ._address import _URL, SCHEME_PORTS, AddressBook, Target
from ._hook import Key, Note, Unsupported
from ._images import image_index
from ._model import ComposeDoc, ServiceDef
from ._parse import stackrig_name
from ._plan import Planned, plan_service

__all__ = ["Assembled", "assemble"]


@dataclass
class Assembled:
    doc: ComposeDoc
    services: dict[str, Planned]
    skipped: dict[str, str]  # service -> why stackrig does not run it
    notes: list[tuple[Key, Note]] = field(default_factory=list)  # top-level
    kinds: dict[str, str] = field(default_factory=dict)  # service -> kind (for the header)


def _strings(sd: ServiceDef) -> Iterable[str]:
    yield from sd.svc.environment.values()
    yield from sd.svc.command or ()
    yield from sd.svc.entrypoint or ()


def _referenced_ports(doc: ComposeDoc, aliases: dict[str, str]) -> dict[str, set[int]]:
    """Container ports each service is addressed at by the others (``app:8000``, ``http://app/``)."""
    found: dict[str, set[int]] = {}
    if not aliases:
        return found
    names = "|".join(re.escape(a) for a in sorted(aliases, key=len, reverse=True))
    bare = re.compile(rf"(?<![\w.@/:-])({names}):(\d{{1,5}})(?![\w.])")
    for owner, sd in doc.services.items():
        for text in _strings(sd):
            for m in _URL.finditer(text):
                target = aliases.get(m.group("host"))
                port = int(m.group("port")) if m.group("port") else SCHEME_PORTS.get(m.group("scheme").lower())
                if target is not None and target != owner and port:
                    found.setdefault(target, set()).add(port)
            for m in bare.finditer(text):
                target = aliases[m.group(1)]
                if target != owner:
                    found.setdefault(target, set()).add(int(m.group(2)))
    return found


def _env_name(service: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", service).upper() + "_URL"


def _walk(value: Any, fn: Callable[[str, Key], str], key: Key) -> Any:
    if isinstance(value, str):
        return fn(value, key)
    if isinstance(value, list):
        return [_walk(v, fn, (*key, i)) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: _walk(v, fn, (*key, k)) for k, v in value.items()}
    return value


def assemble(doc: ComposeDoc) -> Assembled:
    index = image_index()
    skipped = dict(doc.skipped)
    for name, sd in doc.services.items():
        if sd.replicas == 0 and name not in skipped:
            skipped[name] = "scale: 0"
    aliases = {a: name for name, sd in doc.services.items() for a in sd.aliases}
    active = {n: sd for n, sd in doc.services.items() if n not in skipped}
    jobs = {stackrig_name(dep) for sd in active.values() for dep, d in sd.depends_on.items()
            if d.condition == "service_completed_successfully"}
    referenced = _referenced_ports(doc, aliases)
    planned: dict[str, Planned] = {}
    for name, sd in active.items():
        planned[name] = plan_service(doc, sd, index, job=name in jobs, referenced=referenced.get(name, set()))
    book = AddressBook(
        targets={a: Target(p.name, p.ports, "port" if "port" in p.ports.values() else next(iter(p.ports.values()),
                                                                                           "port"))
                 for p in planned.values() for a in p.sd.aliases if p.ports},
        skipped={a for n in skipped for a in doc.services[n].aliases})
    for p in planned.values():
        _rewrite(doc, p, book)
    for owner, note in book.notes:
        planned[owner].notes.append(note)
    for p in planned.values():
        _depends(doc, p, planned, skipped)
    _exports(planned)
    return Assembled(doc=doc, services=planned, skipped=skipped, notes=list(doc.notes),
                     kinds={n: p.kind for n, p in planned.items()})


def _located(doc: ComposeDoc, p: Planned, exc: Unsupported) -> ConfigError:
    return doc.located.error((*p.sd.keys, *exc.key), f"service '{p.name}': {exc.message}", exc.hint)


def _rewrite(doc: ComposeDoc, p: Planned, book: AddressBook) -> None:
    own = list(p.ports) if p.app else []
    try:
        env, pointing, notes = book.rewrite_env(p.env, p.name, p.env_keys, own, p.app, p.port_var)
        p.notes.extend(notes)
        env.update(p.x_env)
        if env:
            p.table["env"] = env
        p.pointing = pointing
        if p.app:
            command = p.table.get("command")
            if isinstance(command, str):
                p.table["command"] = book.rewrite(command, p.name, ("command",), own)
            elif isinstance(command, list):
                p.table["command"] = [book.rewrite(a, p.name, ("command", i), own) for i, a in enumerate(command)]
            ready = p.table.get("ready") or {}
            if isinstance(ready.get("command"), str):
                text = ready["command"]
                if book.rewrite(text, p.name, ("healthcheck",), own) != text:
                    p.notes.append(Note(("healthcheck",), "the healthcheck addresses another service by name; the "
                                        "probe runs it unchanged (set x-stackrig.ready to fix it)", "warning"))
        for key in p.rewrite:
            if key in p.table:
                p.table[key] = _walk(p.table[key], lambda s, k: book.rewrite(s, p.name, k), (key,))
    except Unsupported as exc:
        raise _located(doc, p, exc) from None


def _depends(doc: ComposeDoc, p: Planned, planned: dict[str, Planned], skipped: dict[str, str]) -> None:
    deps: list[str] = []
    for dep, d in p.sd.depends_on.items():
        name = stackrig_name(dep)
        if name not in doc.services:
            raise doc.located.error((*p.sd.keys, "depends_on"), f"service '{p.name}' depends on unknown service "
                                    f"'{dep}'", hint=f"services are: {', '.join(doc.services)}")
        if name in skipped:
            if d.required:
                p.notes.append(Note(("depends_on", dep), f"depends_on {dep}: dropped — stackrig does not run it "
                                    f"({skipped[name]})", "warning"))
            continue
        target = planned[name]
        if d.condition == "service_healthy" and target.app and target.sd.healthcheck is None \
                and "ready" not in target.table:
            p.notes.append(Note(("depends_on", dep), f"depends_on {dep} (service_healthy): '{dep}' has no "
                                "healthcheck; stackrig waits for its default probe (a TCP connection)", "warning"))
        if name not in deps:
            deps.append(name)
    if deps:
        p.table["depends_on"] = deps
        p.origins["depends_on"] = ("depends_on",)


def _exports(planned: dict[str, Planned]) -> None:
    taken: dict[str, tuple[str, str]] = {}

    def offer(p: Planned, var: str, value: str, quiet: bool) -> None:
        if var in taken:
            owner, existing = taken[var]
            if existing != value and owner != p.name and not quiet:
                p.notes.append(Note(("environment", var), f"{var} is also set by '{owner}'; the test process gets "
                                    f"'{owner}''s", "warning"))
            return
        taken[var] = (p.name, value)
        p.table.setdefault("export", {})[var] = value

    for p in planned.values():
        if p.app and not p.job:
            env = p.table.get("env") or {}
            for var in sorted(p.pointing):
                if var in env:
                    offer(p, var, env[var], False)
    for p in planned.values():
        if p.ports and not p.job:
            offer(p, _env_name(p.name), "${url}", True)
