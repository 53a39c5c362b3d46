"""Parse and validate a stack file into a :class:`StackFile`.

Every mistake becomes one :class:`~stackrig.errors.ConfigError` naming the file, the line,
the key and the fix.  The loader knows no service kind: it is handed the kinds' stack-file
models (``kinds``: name -> :class:`ServiceSpec` subclass) by the kind registry.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from ..errors import ConfigError
from ._interp import references
from ._spec import ServiceSpec, SettingsSpec

__all__ = ["StackFile", "load_stack", "parse_stack"]

_TOP_KEYS = ("services", "stackrig")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")


@dataclass(frozen=True)
class StackFile:
    """A validated stack: services in dependency order."""

    path: Path
    services: dict[str, ServiceSpec]
    settings: SettingsSpec
    digest: str  # sha256 of the file's bytes: identifies "the same stack"
    warnings: tuple[str, ...] = ()  # what loading it found that the run must say (compose: nearest versions, ...)

    @property
    def root(self) -> Path:
        """The folder relative paths in the stack file are resolved against."""
        return self.path.parent

    def start_order(self) -> list[str]:
        return list(self.services)

    def dependents(self, name: str) -> list[str]:
        return [n for n, s in self.services.items() if name in s.depends_on]


def describe(value: object) -> str:
    from ._errors import describe

    return describe(value)


def did_you_mean(word: str, options: Iterable[str]) -> str:
    from ._errors import did_you_mean

    return did_you_mean(word, options)


class _Located:
    """Errors located in one file's text (keys under `prefix`, for `[tool.stackrig]`).  The text is
    scanned for lines, and the error machinery imported, only when there is an error to report."""

    def __init__(self, path: Path, text: str, prefix: tuple[str, ...]) -> None:
        self.path = path
        self.text = text
        self.prefix = prefix

    def error(self, keys: Sequence[str | int], message: str, hint: str | None = None) -> ConfigError:
        from ._locate import key_lines, locate

        line = locate(key_lines(self.text), (*self.prefix, *keys))
        return ConfigError(message, file=self.path, line=line, key=".".join(str(k) for k in keys), hint=hint)

    def invalid(self, where: tuple[str, ...], model: type[Any], data: Mapping[str, Any],
                exc: msgspec.ValidationError) -> ConfigError:
        from ._errors import explain

        problem = explain(model, data, exc)
        return self.error((*where, *problem.keys), problem.message, problem.hint)


def load_stack(path: Path | str, kinds: Mapping[str, type[ServiceSpec]],
               runtimes: Iterable[str] = ()) -> StackFile:
    """Read and validate a stack file; raise :class:`ConfigError` on any mistake.

    `kinds`: the stack-file model of each kind; `runtimes`: names a service may use as
    ``${name}`` besides ``${python}`` (``${node}``, ``${go}``)."""
    path = Path(path).resolve()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            "stack file not found", file=path,
            hint="run `stackrig init` to write a starter stackrig.toml, or pass -f/--file PATH",
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read the stack file: {exc.strerror}", file=path) from None
    return parse_stack(path, raw, kinds, runtimes)


def parse_stack(path: Path, raw: bytes, kinds: Mapping[str, type[ServiceSpec]],
                runtimes: Iterable[str] = ()) -> StackFile:
    """Validate the bytes of a stack file found at `path`."""
    text = raw.decode("utf-8", errors="replace")
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        line = int(m.group(1)) if m else None
        reason = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        col = f", column {m.group(2)}" if m else ""
        raise ConfigError(
            f"TOML syntax error{col}: {reason}", file=path, line=line,
            hint="check quotes, brackets and `key = value` syntax on that line",
        ) from None

    prefix: tuple[str, ...] = ()
    if path.name == "pyproject.toml":
        tool = doc.get("tool", {})
        if "stackrig" not in tool:
            raise ConfigError("no [tool.stackrig] table in pyproject.toml", file=path,
                              hint="add [tool.stackrig.services.NAME] tables, or use a stackrig.toml")
        doc = tool["stackrig"]
        prefix = ("tool", "stackrig")
    return _validate(_Located(path, text, prefix), doc, hashlib.sha256(raw).hexdigest(), kinds,
                     {"python", *runtimes})


def _validate(ld: _Located, doc: Mapping[str, Any], digest: str,
              kinds: Mapping[str, type[ServiceSpec]], runtimes: set[str]) -> StackFile:
    for key in doc:
        if key not in _TOP_KEYS:
            raise ld.error((key,), f"unknown top-level key '{key}'{did_you_mean(key, _TOP_KEYS)}",
                           hint="services go in [services.NAME] tables; stack-wide settings in [stackrig]")
    settings_raw = doc.get("stackrig", {})
    if not isinstance(settings_raw, Mapping):
        raise ld.error(("stackrig",), f"expected a table, found {describe(settings_raw)}",
                       hint="write stack-wide settings as a [stackrig] table")
    try:
        settings = msgspec.convert(settings_raw, SettingsSpec, strict=True)
    except msgspec.ValidationError as exc:
        raise ld.invalid(("stackrig",), SettingsSpec, settings_raw, exc) from None

    raw_services = doc.get("services")
    if not isinstance(raw_services, Mapping) or not raw_services:
        raise ld.error(("services",), "the stack declares no services",
                       hint='add a table such as\n    [services.db]\n    kind = "postgres"')
    services: dict[str, ServiceSpec] = {}
    for name, body in raw_services.items():
        where = ("services", name)
        if not _NAME.match(name):
            raise ld.error(where, f"service name '{name}' is not valid",
                           hint="use letters, digits, '-' and '_', starting with a letter")
        if not isinstance(body, Mapping):
            raise ld.error(where, f"expected a table, found {describe(body)}",
                           hint=f'write it as [services.{name}] with kind = "..."')
        kind = body.get("kind")
        if kind is None:
            raise ld.error(where, "missing key 'kind'", hint=f"add kind = one of {', '.join(map(repr, kinds))}")
        if not isinstance(kind, str) or kind not in kinds:
            raise ld.error((*where, "kind"), f"unknown kind {kind!r}{did_you_mean(str(kind), kinds)}",
                           hint=f"use one of: {', '.join(kinds)} (`stackrig kinds` lists them)")
        model = kinds[kind]
        try:
            spec = msgspec.convert({**body, "name": name}, model, strict=True)
        except msgspec.ValidationError as exc:
            raise ld.invalid(where, model, body, exc) from None
        services[name] = spec

    _check_dependencies(ld, services)
    _check_references(ld, services, runtimes)
    ordered = _topological(services)
    return StackFile(path=ld.path, services={n: services[n] for n in ordered}, settings=settings, digest=digest)


def _check_dependencies(ld: _Located, services: Mapping[str, ServiceSpec]) -> None:
    for name, spec in services.items():
        for dep in spec.depends_on:
            if dep == name:
                raise ld.error(("services", name, "depends_on"), f"service '{name}' depends on itself",
                               hint=f"remove '{name}' from its depends_on")
            if dep not in services:
                raise ld.error(("services", name, "depends_on"),
                               f"depends on unknown service '{dep}'{did_you_mean(dep, services)}",
                               hint=f"declare [services.{dep}] or fix the name; services are: {', '.join(services)}")
    # cycles: depth-first search, reporting the cycle path
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> None:
        state[n] = 1
        stack.append(n)
        for dep in services[n].depends_on:
            if state.get(dep) == 1:
                cycle = stack[stack.index(dep):] + [dep]
                raise ld.error(("services", n, "depends_on"),
                               f"dependency cycle: {' -> '.join(cycle)}",
                               hint="remove one of these depends_on entries so the services can start in order")
            if dep not in state:
                visit(dep)
        stack.pop()
        state[n] = 2

    for n in services:
        if n not in state:
            visit(n)


def _topological(services: Mapping[str, ServiceSpec]) -> list[str]:
    done: list[str] = []
    seen: set[str] = set()

    def visit(n: str) -> None:
        if n in seen:
            return
        seen.add(n)
        for dep in services[n].depends_on:
            visit(dep)
        done.append(n)

    for n in services:
        visit(n)
    return done


def interpolated_fields(spec: ServiceSpec) -> Iterable[tuple[tuple[str, ...], str]]:
    """Every string of `spec` that may hold `${...}` references, with its key path."""
    for key in spec.interpolated:
        value = getattr(spec, key, None)
        if isinstance(value, str):
            yield (key,), value
        elif isinstance(value, list):
            for i, part in enumerate(value):
                if isinstance(part, str):
                    yield (key, str(i)), part
        elif isinstance(value, Mapping):
            for k, v in value.items():
                if isinstance(v, str):
                    yield (key, k), v


def _check_references(ld: _Located, services: Mapping[str, ServiceSpec], runtimes: set[str]) -> None:
    for name, spec in services.items():
        for keys, value in interpolated_fields(spec):
            for ref in references(value):
                where = ("services", name, *keys)
                if ref.service == "env" or ref.service is None and ref.attr in runtimes:
                    continue
                target = services.get(ref.service) if ref.service else spec
                dotted = f"{ref.service}.{ref.attr}"
                if target is None and dotted in spec.attribute_names():
                    continue  # `${url.inventory}`: the service's own dotted attribute
                if target is None and any(a.startswith(f"{ref.service}.") for a in spec.attribute_names()):
                    names = spec.attribute_names()
                    raise ld.error(where, f"unresolved {ref.text}: a {spec.kind} service has no attribute "
                                   f"'{dotted}'{did_you_mean(dotted, names)}", hint=f"use one of: {', '.join(names)}")
                if target is None:
                    raise ld.error(where, f"unresolved {ref.text}: no service named '{ref.service}'"
                                   f"{did_you_mean(ref.service or '', services)}",
                                   hint=f"reference a declared service: {', '.join(services)}")
                names = target.attribute_names()
                if ref.attr not in names:
                    raise ld.error(where, f"unresolved {ref.text}: a {target.kind} service has no attribute "
                                   f"'{ref.attr}'{did_you_mean(ref.attr, names)}",
                                   hint=f"use one of: {', '.join(names)}")
                if ref.attr in ("port", "url") and getattr(target, "port", True) is False:
                    raise ld.error(where, f"unresolved {ref.text}: service '{target.name}' has `port = false`",
                                   hint="give it a port, or do not reference its port/url")

