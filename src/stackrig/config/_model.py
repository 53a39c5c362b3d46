"""Typed model of a stack file: one pydantic model per service kind.

Models are strict about keys (unknown keys are errors, with a suggestion) and
about types; everything that needs the whole stack (references between
services, cycles, interpolation) is checked in :mod:`._load`.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "ReadySpec",
    "ServiceSpec",
    "PostgresSpec",
    "RedisSpec",
    "ProcessSpec",
    "HttpStubSpec",
    "SmtpSpec",
    "SettingsSpec",
    "KINDS",
    "parse_version_constraint",
]

Scalar = str | int | float | bool


def parse_version_constraint(text: str) -> SpecifierSet:
    """``"15"`` means 15.x, ``"7.2"`` means 7.2.x; anything else is a PEP 440 specifier (``">=14,<17"``)."""
    raw = text.strip()
    if raw and all(part.isdigit() for part in raw.split(".")):
        return SpecifierSet(f"=={raw}.*")
    return SpecifierSet(raw)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ReadySpec(_Strict):
    """How to know the service is ready: exactly one of the probes."""

    http: str | None = None
    tcp: bool | None = None
    log: str | None = None
    command: str | None = None
    status: int | None = Field(default=None, description="expected HTTP status (default: any 2xx/3xx)")

    @model_validator(mode="after")
    def _one_probe(self) -> ReadySpec:
        chosen = [k for k in ("http", "tcp", "log", "command") if getattr(self, k) not in (None, False)]
        if len(chosen) != 1:
            found = ", ".join(chosen) if chosen else "none"
            raise ValueError(f"expected exactly one of http, tcp, log, command; found {found}")
        if self.log is not None:
            import re

            try:
                re.compile(self.log)
            except re.error as exc:
                raise ValueError(f"log pattern {self.log!r} is not a valid regular expression: {exc}") from None
        if self.http is not None and not self.http.startswith("/"):
            raise ValueError(f"http probe path must start with '/', found {self.http!r}")
        return self


class ServiceSpec(_Strict):
    """Keys every service kind accepts."""

    kind: str
    depends_on: list[str] = []
    env: dict[str, Scalar] = {}
    ready: ReadySpec | None = None
    start_timeout: Annotated[float, Field(gt=0)] = 30.0
    stop_timeout: Annotated[float, Field(gt=0)] = 5.0
    export: dict[str, str] = {}
    faults: bool | None = Field(default=None, description="put the service behind the fault proxy")
    # Filled in by the loader, not by users.
    name: str = Field(default="", exclude=True)

    # attributes a `${service.attr}` reference may use
    attributes: ClassVar[tuple[str, ...]] = ("host", "port", "url", "name")
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)


class _ServerSpec(ServiceSpec):
    version: str | None = None
    path: str | None = Field(default=None, description="folder or file of the server binary")
    port: Annotated[int, Field(ge=1, le=65535)] | None = None

    @field_validator("version")
    @classmethod
    def _check_version(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_version_constraint(value)
            except InvalidSpecifier:
                raise ValueError(
                    f"version constraint {value!r} is not valid; "
                    'expected e.g. "15", ">=14", ">=14,<17" or "~=7.2"'
                ) from None
        return value


class PostgresSpec(_ServerSpec):
    kind: Literal["postgres"]
    database: str = "app"
    user: str = "postgres"
    password: str | None = None
    settings: dict[str, Scalar] = {}
    init: str | list[str] = []
    seed: str | list[str] = []
    init_inputs: list[str] = Field(default=[], description="globs whose content re-runs a command init when changed")
    isolation: Literal["reset", "clone", "transaction", "none"] = "reset"
    reset_timeout: Annotated[float, Field(gt=0)] = 5.0
    attributes: ClassVar[tuple[str, ...]] = ("host", "port", "url", "name", "user", "password", "database")


class RedisSpec(_ServerSpec):
    kind: Literal["redis"]
    config: dict[str, Scalar] = {}
    isolation: Literal["flush", "none"] = "flush"
    attributes: ClassVar[tuple[str, ...]] = ("host", "port", "url", "name")


class ProcessSpec(ServiceSpec):
    kind: Literal["process"]
    command: str | list[str]
    cwd: str | None = None
    port: bool | Annotated[int, Field(ge=1, le=65535)] = True
    replicas: Annotated[int, Field(ge=1, le=64)] = 1
    attributes: ClassVar[tuple[str, ...]] = ("host", "port", "url", "name")

    @field_validator("command")
    @classmethod
    def _non_empty(cls, value: str | list[str]) -> str | list[str]:
        if not value or (isinstance(value, str) and not value.strip()):
            raise ValueError("command must not be empty")
        return value


class HttpStubSpec(ServiceSpec):
    kind: Literal["http-stub"]
    mappings: str | None = Field(default=None, description="folder holding mappings/ and __files/")
    port: Annotated[int, Field(ge=1, le=65535)] | None = None
    journal_limit: Annotated[int, Field(ge=0)] = 10000
    attributes: ClassVar[tuple[str, ...]] = ("host", "port", "url", "name")


class SmtpSpec(ServiceSpec):
    kind: Literal["smtp"]
    port: Annotated[int, Field(ge=1, le=65535)] | None = None
    attributes: ClassVar[tuple[str, ...]] = ("host", "port", "url", "name")


class SettingsSpec(_Strict):
    """The optional ``[stackrig]`` table: settings for the whole stack."""

    data_dir: str = Field(default="auto", description='"auto" (tmpfs when available), "tmpfs", "disk" or a path')
    keep_data: bool = False
    faults: bool = Field(default=False, description="put every service with a port behind the fault proxy")


KINDS: dict[str, type[ServiceSpec]] = {
    "postgres": PostgresSpec,
    "redis": RedisSpec,
    "process": ProcessSpec,
    "http-stub": HttpStubSpec,
    "smtp": SmtpSpec,
}

