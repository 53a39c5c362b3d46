"""Per-test isolation for a running stack: which services to reset, when, and what failures mean.

Built from the stack file's `isolation` keys over a `Rig`:

* postgres `reset` (default): after each test the database is put back to its baseline in
  place (`isolation.PgIsolation.reset`), while the app keeps its connections;
* postgres `clone`: each test gets its own database cloned from the baseline; its URL is
  `rig["db"].url` for the test;
* postgres `transaction`: nothing server-side; tests use `rig.transaction()` / the fixtures;
* redis `flush` (default): the test's database index is flushed when the test wrote.

A reset that fails leaves the service *dirty*: the next test is errored instead of being run on
data that is not the baseline.
"""

from __future__ import annotations

import re
from typing import Any

from ._rig import Rig
from .config import PostgresSpec, RedisSpec, StackFile
from .errors import IsolationError

__all__ = ["Isolation"]


class Isolation:
    def __init__(self, stack: StackFile, rig: Rig) -> None:
        self.rig = rig
        self._pg: dict[str, Any] = {}
        self._clone: dict[str, Any] = {}
        self._redis: dict[str, Any] = {}
        self._clones: dict[str, str] = {}
        self._failed: dict[str, IsolationError] = {}
        for name, spec in stack.services.items():
            if name not in rig:
                continue
            handle = rig[name]
            if isinstance(spec, PostgresSpec) and spec.isolation in ("reset", "clone"):
                from .isolation import PgIsolation

                base = spec.database
                iso = PgIsolation(handle.direct_url, lock_timeout=spec.reset_timeout,
                                  template=f"{base}__stackrig_tpl")
                (self._pg if spec.isolation == "reset" else self._clone)[name] = iso
            elif isinstance(spec, RedisSpec) and spec.isolation == "flush":
                from .isolation import RedisIsolation

                r = RedisIsolation(handle.direct_url)
                r.install()
                self._redis[name] = r

    @property
    def active(self) -> bool:
        return bool(self._pg or self._clone or self._redis)

    def before(self, test_id: str) -> None:
        """Refuse to run a test on dirty data; give clone-mode tests their own database."""
        if self._failed:
            name, err = next(iter(self._failed.items()))
            raise IsolationError(
                f"not running {test_id}: service '{name}' could not be put back to its baseline after "
                f"the previous test, so this test would see its data:\n  {err}",
                hint="fix the cause above (often a transaction or lock the previous test left open)")
        for name, iso in self._clone.items():
            clone = _clone_name(iso.database, test_id)
            url = iso.clone(clone)
            self._clones[name] = clone
            self.rig[name].use_url(url)

    def after(self, test_id: str) -> None:
        """Reset every service; raise the first failure (reported on this test's teardown)."""
        errors: list[IsolationError] = []
        for name, iso in self._pg.items():
            try:
                iso.reset(test_id=test_id)
                self._failed.pop(name, None)
            except IsolationError as exc:
                errors.append(exc)
                if iso.dirty:
                    self._failed[name] = exc
        for name, iso in self._clone.items():
            clone = self._clones.pop(name, None)
            self.rig[name].use_url(None)
            self.rig.forget_clients(name)
            if clone:
                try:
                    iso.drop_clone(clone)
                except IsolationError as exc:
                    errors.append(exc)
        for name, r in self._redis.items():
            try:
                r.reset(test_id=test_id)
                self._failed.pop(name, None)
            except IsolationError as exc:
                errors.append(exc)
                self._failed[name] = exc
        if errors:
            raise errors[0]

    def close(self) -> None:
        for iso in [*self._pg.values(), *self._clone.values(), *self._redis.values()]:
            try:
                iso.close()
            except Exception:
                pass


def _clone_name(database: str, test_id: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", test_id.lower()).strip("_")[-30:]
    import hashlib

    return f"{database[:20]}_t_{hashlib.sha1(test_id.encode()).hexdigest()[:8]}_{slug}"[:63]
