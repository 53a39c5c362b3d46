"""The keys of `kind = "postgres"`."""

from __future__ import annotations

import re
from typing import ClassVar, Literal

from ...config import Scalar, Seconds, ServerSpec, Spec, SpecError

__all__ = ["PostgresSpec", "DatabaseSpec"]

Isolation = Literal["reset", "clone", "transaction", "none"]
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,40}$")


class DatabaseSpec(Spec, kw_only=True):
    """Another database of the same server (`[services.db.databases.NAME]`): its own baseline."""

    init: str | list[str] = []
    seed: str | list[str] = []
    init_inputs: list[str] = []
    isolation: Literal["reset", "transaction", "none"] | None = None  # default: the service's


class PostgresSpec(ServerSpec, kw_only=True):
    database: str = "app"
    user: str = "postgres"
    password: str | None = None
    settings: dict[str, Scalar] = {}
    init: str | list[str] = []
    seed: str | list[str] = []
    init_inputs: list[str] = []  # globs whose content re-runs a command init when changed
    isolation: Isolation = "reset"
    reset_timeout: Seconds = 5.0
    databases: dict[str, DatabaseSpec] = {}  # more databases on the server, each with its init/seed/reset

    attributes: ClassVar[tuple[str, ...]] = ("host", "port", "url", "name", "user", "password", "database")

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in self.databases:
            if not _IDENT.match(name):
                raise SpecError("databases", f"database name {name!r} is not valid: use letters, digits and '_', "
                                "starting with a letter (at most 41 characters)")
            if name in (self.database, "postgres", "template0", "template1"):
                raise SpecError("databases", f"database {name!r} is already this server's "
                                + ("main database (`database`)" if name == self.database else "system database"))

    def attribute_names(self) -> tuple[str, ...]:
        extra = [f"{attr}.{name}" for name in self.databases for attr in ("url", "direct_url")]
        return (*self.attributes, *extra)

    def isolation_of(self, name: str) -> str:
        """The isolation of the main database or of `databases.NAME`."""
        if name == self.database:
            return self.isolation
        own = self.databases[name].isolation
        return own if own is not None else ("reset" if self.isolation == "clone" else self.isolation)

    def all_databases(self) -> dict[str, tuple[list[str], list[str]]]:
        """name -> (init+seed items, init_inputs), the main database first."""
        found = {self.database: (_as_list(self.init) + _as_list(self.seed), list(self.init_inputs))}
        for name, db in self.databases.items():
            found[name] = (_as_list(db.init) + _as_list(db.seed), list(db.init_inputs))
        return found


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)
