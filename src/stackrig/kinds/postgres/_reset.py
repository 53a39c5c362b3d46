"""Per-test isolation of a postgres service (`isolation = "reset" | "clone"`).

* ``reset`` (default): after each test the database is put back to its baseline in place
  (:meth:`stackrig.isolation.PgIsolation.reset`), while the app keeps its connections;
* ``clone``: each test gets its own database cloned from the baseline; the endpoint (so
  ``rig["db"].url`` and ``rig.sql("db")``) points at it for the test;
* ``transaction`` and ``none``: nothing server-side (tests use ``rig.transaction()``).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from ...config import ServiceSpec
from ...services import Endpoint, TestReset
from ._spec import PostgresSpec

__all__ = ["make_reset"]


class _InPlace(TestReset):
    def __init__(self, iso: Any) -> None:
        self.iso = iso

    def after(self, test_id: str) -> None:
        self.iso.reset(test_id=test_id)

    def still_dirty(self) -> bool:
        return bool(self.iso.dirty)

    def close(self) -> None:
        self.iso.close()


class _Clone(TestReset):
    def __init__(self, iso: Any, endpoint: Endpoint) -> None:
        self.iso = iso
        self.endpoint = endpoint
        self.current: str | None = None

    def before(self, test_id: str) -> None:
        self.current = clone_name(self.iso.database, test_id)
        self.endpoint.redirect(self.iso.clone(self.current))

    def after(self, test_id: str) -> None:
        clone, self.current = self.current, None
        self.endpoint.redirect(None)
        if clone:
            self.iso.drop_clone(clone)

    def still_dirty(self) -> bool:
        return False  # the next test gets a fresh clone anyway

    def close(self) -> None:
        self.iso.close()


class _Databases(TestReset):
    """Several databases of one server: each reset on its own, every failure reported."""

    def __init__(self, parts: dict[str, TestReset]) -> None:
        self.parts = parts
        self._dirty: set[str] = set()

    def before(self, test_id: str) -> None:
        for part in self.parts.values():
            part.before(test_id)

    def after(self, test_id: str) -> None:
        failures: list[tuple[str, BaseException]] = []
        self._dirty.clear()
        for name, part in self.parts.items():
            try:
                part.after(test_id)
            except Exception as exc:  # noqa: BLE001 - the others still reset
                failures.append((name, exc))
                if part.still_dirty():
                    self._dirty.add(name)
        if len(failures) == 1:
            raise failures[0][1]
        if failures:
            from ...errors import IsolationError

            raise IsolationError("\n".join(f"database '{name}': {exc}" for name, exc in failures))

    def still_dirty(self) -> bool:
        return bool(self._dirty)

    def close(self) -> None:
        for part in self.parts.values():
            part.close()


def make_reset(spec: ServiceSpec, endpoint: Endpoint) -> TestReset | None:
    assert isinstance(spec, PostgresSpec)
    from ...isolation import PgIsolation

    parts: dict[str, TestReset] = {}
    for name in spec.all_databases():
        mode = spec.isolation_of(name)
        if mode not in ("reset", "clone"):
            continue
        url = endpoint.direct_url if name == spec.database else endpoint.attributes[f"direct_url.{name}"]
        iso = PgIsolation(url, lock_timeout=spec.reset_timeout, template=f"{name}__stackrig_tpl")
        parts[name] = _InPlace(iso) if mode == "reset" else _Clone(iso, endpoint)
    if not parts:
        return None
    return next(iter(parts.values())) if len(parts) == 1 else _Databases(parts)


def clone_name(database: str, test_id: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", test_id.lower()).strip("_")[-30:]
    return f"{database[:20]}_t_{hashlib.sha1(test_id.encode()).hexdigest()[:8]}_{slug}"[:63]
