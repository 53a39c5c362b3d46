"""The typed model of a stack file's tables (msgspec structs).

Every service kind's keys are a subclass of :class:`ServiceSpec` (servers with a binary:
:class:`ServerSpec`), defined in the kind's own folder.  Structs are strict about keys
(unknown keys are errors) and types; what needs the whole stack (references between
services, cycles) is checked in :mod:`._load`.  msgspec, not pydantic: validating and even
importing the models stays in the low milliseconds, which the CLI's start-up needs.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, ClassVar

import msgspec

if TYPE_CHECKING:
    from packaging.specifiers import SpecifierSet

__all__ = [
    "Spec",
    "SpecError",
    "ReadySpec",
    "ServiceSpec",
    "ServerSpec",
    "SettingsSpec",
    "Port",
    "Seconds",
    "Scalar",
    "parse_version_constraint",
]

Scalar = str | int | float | bool
Port = Annotated[int, msgspec.Meta(ge=1, le=65535)]
Seconds = Annotated[float, msgspec.Meta(gt=0)]


def parse_version_constraint(text: str) -> SpecifierSet:
    """``"15"`` means 15.x, ``"7.2"`` means 7.2.x; anything else is a PEP 440 specifier (``">=14,<17"``)."""
    from packaging.specifiers import SpecifierSet

    raw = text.strip()
    if raw and all(part.isdigit() for part in raw.split(".")):
        return SpecifierSet(f"=={raw}.*")
    return SpecifierSet(raw)


class SpecError(ValueError):
    """Raised by a spec's ``__post_init__``: what is wrong with which of its keys (None: the table)."""

    def __init__(self, key: str | None, message: str) -> None:
        super().__init__(message)
        self.key = key


class Spec(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of every stack-file table: unknown keys are refused.  A subclass declares ``kw_only=True``
    too (``class MySpec(ServerSpec, kw_only=True)``), so its required keys may follow defaults."""


class ReadySpec(Spec, kw_only=True):
    """How to know the service is ready: exactly one of the probes."""

    http: str | None = None
    tcp: bool | None = None
    log: str | None = None
    command: str | None = None
    websocket: str | None = None
    status: int | None = None  # expected HTTP status (default: any 2xx/3xx)

    PROBES: ClassVar[tuple[str, ...]] = ("http", "tcp", "log", "command", "websocket")

    def __post_init__(self) -> None:
        chosen = [k for k in self.PROBES if getattr(self, k) not in (None, False)]
        if len(chosen) != 1:
            found = ", ".join(chosen) if chosen else "none"
            raise SpecError(None, f"expected exactly one of {', '.join(self.PROBES)}; found {found}")
        if self.log is not None:
            try:
                re.compile(self.log)
            except re.error as exc:
                raise SpecError("log", f"log pattern {self.log!r} is not a valid regular expression: {exc}") from None
        for key in ("http", "websocket"):
            path = getattr(self, key)
            if path is not None and not path.startswith("/"):
                raise SpecError(key, f"{key} probe path must start with '/', found {path!r}")


class ServiceSpec(Spec, kw_only=True):
    """Keys every service kind accepts."""

    kind: str
    depends_on: list[str] = []
    env: dict[str, Scalar] = {}
    ready: ReadySpec | None = None
    start_timeout: Seconds = 30.0
    stop_timeout: Seconds = 5.0
    export: dict[str, str] = {}
    faults: bool | None = None  # put the service behind the fault proxy
    name: str = ""  # filled in by the loader from the table's name

    # attributes a `${service.attr}` reference may use
    attributes: ClassVar[tuple[str, ...]] = ("host", "port", "url", "name")
    # keys whose string values may hold `${...}` references
    interpolated: ClassVar[tuple[str, ...]] = ("env", "export")

    def attribute_names(self) -> tuple[str, ...]:
        """The attributes this service has (a kind may add some per spec: `${db.url.inventory}`)."""
        return self.attributes

    def measures_coverage(self) -> bool:
        """Whether the service's code is measured while the tests run (`coverage = true`)."""
        return False


class ServerSpec(ServiceSpec, kw_only=True):
    """Keys of a kind that runs a server binary found by a provider."""

    version: str | None = None  # a constraint: "15", ">=14,<17", "~=7.2"
    prefer_version: str | None = None  # a preference (a compose image's tag): else the nearest runs, with a warning
    path: str | None = None  # folder or file of the server binary
    port: Port | None = None

    def __post_init__(self) -> None:
        if self.prefer_version is not None and not all(p.isdigit() for p in self.prefer_version.split(".")):
            raise SpecError("prefer_version", f"prefer_version {self.prefer_version!r} is not a version such as "
                                              '"13" or "6.2"')
        if self.version is not None:
            from packaging.specifiers import InvalidSpecifier

            try:
                parse_version_constraint(self.version)
            except InvalidSpecifier:
                raise SpecError(
                    "version", f"version constraint {self.version!r} is not valid; "
                    'expected e.g. "15", ">=14", ">=14,<17" or "~=7.2"'
                ) from None


class SettingsSpec(Spec, kw_only=True):
    """The optional ``[stackrig]`` table: settings for the whole stack."""

    data_dir: str = "auto"  # "auto" (tmpfs when available), "tmpfs", "disk" or a path
    keep_data: bool = False
    faults: bool = False  # put every service with a port behind the fault proxy
    pact_dir: str | None = None  # folder of the pacts http-stub services write (default "pacts"; docs/pact.md)
    pact_states: str | list[str] | None = None  # provider-states module(s) of `stackrig pact verify`
