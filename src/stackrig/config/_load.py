"""Find, parse and validate a stack file into a :class:`StackFile`.

Every mistake becomes one :class:`~stackrig.errors.ConfigError` naming the
file, the line, the key and the fix.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import ConfigError
from ._interp import references
from ._locate import key_lines, locate
from ._model import KINDS, ServiceSpec, SettingsSpec

__all__ = ["StackFile", "find_stack_file", "load_stack", "STACK_FILE_NAMES"]

STACK_FILE_NAMES = ("stackrig.toml",)
_TOP_KEYS = ("services", "stackrig")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")


@dataclass(frozen=True)
class StackFile:
    """A validated stack: services in dependency order."""

    path: Path
    services: dict[str, ServiceSpec]
    settings: SettingsSpec
    digest: str  # sha256 of the file's bytes: identifies "the same stack"

    @property
    def root(self) -> Path:
        """The folder relative paths in the stack file are resolved against."""
        return self.path.parent

    def start_order(self) -> list[str]:
        return list(self.services)

    def dependents(self, name: str) -> list[str]:
        return [n for n, s in self.services.items() if name in s.depends_on]


def find_stack_file(start: Path | None = None) -> Path | None:
    """`stackrig.toml`, or a `pyproject.toml` with `[tool.stackrig]`, in `start` or a parent folder."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        for name in STACK_FILE_NAMES:
            candidate = folder / name
            if candidate.is_file():
                return candidate
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and "[tool.stackrig" in pyproject.read_text(errors="replace"):
            return pyproject
    return None


def _closest(word: str, options: Iterable[str]) -> str | None:
    found = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return found[0] if found else None


def _did_you_mean(word: str, options: Iterable[str]) -> str:
    best = _closest(word, options)
    return f" (did you mean '{best}'?)" if best else ""


_TOML_TYPES = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "list": "an array",
    "dict": "a table",
    "NoneType": "nothing",
}


def _toml_type(value: object) -> str:
    return _TOML_TYPES.get(type(value).__name__, type(value).__name__)


_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "list_type": "an array",
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
}


class _Loader:
    def __init__(self, path: Path, text: str, prefix: tuple[str, ...]) -> None:
        self.path = path
        self.text = text
        self.prefix = prefix
        self.lines = key_lines(text)

    def error(self, keys: Sequence[str | int], message: str, hint: str | None = None) -> ConfigError:
        full = self.prefix + tuple(str(k) for k in keys)
        line = locate(self.lines, full)
        return ConfigError(message, file=self.path, line=line, key=".".join(str(k) for k in keys), hint=hint)

    # -- pydantic errors -------------------------------------------------
    def _real_loc(self, data: Any, loc: Sequence[str | int]) -> list[str | int]:
        """Drop union-branch tags pydantic puts in `loc` (e.g. 'str', 'list[str]')."""
        real: list[str | int] = []
        node = data
        for part in loc:
            if isinstance(node, Mapping) and part in node:
                node = node[part]
                real.append(part)
            elif isinstance(node, list) and isinstance(part, int) and part < len(node):
                node = node[part]
                real.append(part)
            elif isinstance(node, Mapping) and not real and isinstance(part, str) and part not in node:
                real.append(part)  # a missing/extra key at top level of the service
                break
            elif isinstance(node, Mapping) and isinstance(part, str) and "[" not in part and part not in _TOML_TYPES:
                real.append(part)
                break
        return real

    def validation_error(self, where: tuple[str, ...], model: type[Any], data: Mapping[str, Any],
                         exc: ValidationError) -> ConfigError:
        errors = exc.errors(include_url=False)
        first = errors[0]
        loc = self._real_loc(data, first["loc"])
        same = [e for e in errors if self._real_loc(data, e["loc"]) == loc]
        keys = (*where, *loc)
        kind = first["type"]
        field_names = [f for f in getattr(model, "model_fields", {}) if f != "name"]
        if kind == "extra_forbidden":
            key = str(loc[-1]) if loc else "?"
            options = field_names if len(loc) == 1 else _nested_fields(model, loc[:-1])
            return self.error(
                keys,
                f"unknown key '{key}'{_did_you_mean(key, options)}",
                hint=f"remove it, or use one of: {', '.join(sorted(options))}",
            )
        if kind == "missing":
            return self.error(keys, f"missing required key '{loc[-1]}'",
                              hint=f"add `{loc[-1]} = ...` to [{'.'.join(where)}]")
        found = first.get("input")
        expected = sorted({_EXPECTED[e["type"]] for e in same if e["type"] in _EXPECTED})
        if expected:
            return self.error(
                keys,
                f"expected {' or '.join(expected)}, found {_toml_type(found)} {found!r}",
                hint=f"write `{loc[-1] if loc else where[-1]}` as {expected[0]}",
            )
        msg = str(first["msg"]).removeprefix("Value error, ")
        return self.error(keys, f"{msg} (found {found!r})" if kind != "value_error" else msg)


def _nested_fields(model: type[Any], loc: Sequence[str | int]) -> list[str]:
    current: Any = model
    for part in loc:
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return []
        annotation = fields[part].annotation
        current = next((a for a in getattr(annotation, "__args__", (annotation,)) if hasattr(a, "model_fields")), None)
    return list(getattr(current, "model_fields", {}))


def load_stack(path: Path | str) -> StackFile:
    """Read and validate a stack file; raise :class:`ConfigError` on any mistake."""
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
    loader = _Loader(path, text, prefix)
    return _validate(loader, doc, hashlib.sha256(raw).hexdigest())


def _validate(ld: _Loader, doc: Mapping[str, Any], digest: str) -> StackFile:
    for key in doc:
        if key not in _TOP_KEYS:
            raise ld.error((key,), f"unknown top-level key '{key}'{_did_you_mean(key, _TOP_KEYS)}",
                           hint="services go in [services.NAME] tables; stack-wide settings in [stackrig]")
    settings_raw = doc.get("stackrig", {})
    try:
        settings = SettingsSpec.model_validate(settings_raw)
    except ValidationError as exc:
        raise ld.validation_error(("stackrig",), SettingsSpec, settings_raw, exc) from None

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
            raise ld.error(where, f"expected a table, found {_toml_type(body)}",
                           hint=f'write it as [services.{name}] with kind = "..."')
        kind = body.get("kind")
        if kind is None:
            raise ld.error(where, "missing key 'kind'", hint=f"add kind = one of {', '.join(map(repr, KINDS))}")
        if not isinstance(kind, str) or kind not in KINDS:
            raise ld.error((*where, "kind"), f"unknown kind {kind!r}{_did_you_mean(str(kind), KINDS)}",
                           hint=f"use one of: {', '.join(KINDS)}")
        model = KINDS[kind]
        try:
            spec = model.model_validate({**body, "name": name})
        except ValidationError as exc:
            raise ld.validation_error(where, model, body, exc) from None
        services[name] = spec

    _check_dependencies(ld, services)
    _check_references(ld, services)
    ordered = _topological(services)
    return StackFile(path=ld.path, services={n: services[n] for n in ordered}, settings=settings, digest=digest)


def _check_dependencies(ld: _Loader, services: Mapping[str, ServiceSpec]) -> None:
    for name, spec in services.items():
        for dep in spec.depends_on:
            if dep == name:
                raise ld.error(("services", name, "depends_on"), f"service '{name}' depends on itself",
                               hint=f"remove '{name}' from its depends_on")
            if dep not in services:
                raise ld.error(("services", name, "depends_on"),
                               f"depends on unknown service '{dep}'{_did_you_mean(dep, services)}",
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


def _interpolated_fields(spec: ServiceSpec) -> Iterable[tuple[tuple[str, ...], str]]:
    command = getattr(spec, "command", None)
    if isinstance(command, str):
        yield ("command",), command
    elif isinstance(command, list):
        for i, part in enumerate(command):
            yield ("command", str(i)), part
    for table in ("env", "export"):
        for key, value in getattr(spec, table).items():
            if isinstance(value, str):
                yield (table, key), value


def _check_references(ld: _Loader, services: Mapping[str, ServiceSpec]) -> None:
    for name, spec in services.items():
        for keys, value in _interpolated_fields(spec):
            for ref in references(value):
                where = ("services", name, *keys)
                if ref.service == "env" or (ref.service is None and ref.attr == "python"):
                    continue
                target = services.get(ref.service) if ref.service else spec
                if target is None:
                    raise ld.error(where, f"unresolved {ref.text}: no service named '{ref.service}'"
                                   f"{_did_you_mean(ref.service or '', services)}",
                                   hint=f"reference a declared service: {', '.join(services)}")
                if ref.attr not in target.attributes:
                    raise ld.error(where, f"unresolved {ref.text}: a {target.kind} service has no attribute "
                                   f"'{ref.attr}'{_did_you_mean(ref.attr, target.attributes)}",
                                   hint=f"use one of: {', '.join(target.attributes)}")
                if ref.attr in ("port", "url") and getattr(target, "port", True) is False:
                    raise ld.error(where, f"unresolved {ref.text}: service '{target.name}' has `port = false`",
                                   hint="give it a port, or do not reference its port/url")
