"""Per-test resets of a running stack: every service's kind reset, the faults, the factories.

Built over a `Rig` from the stack file: for each service, its kind's ``reset`` (postgres puts
the baseline back in place, redis flushes, the stub server reloads its mappings, the mailbox is
emptied, brokers purge their queues and streams); plus the run's fault proxy (toxics removed),
the rig's factory sessions and the test's taps.

Each step runs on its own: a failing step never keeps the others from running, and each failure
is reported with the step that failed.  A service whose reset failed and that is still off its
baseline is *dirty*: the next test is errored instead of being run on data that is not the
baseline.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from ..config import StackFile
from ..errors import IsolationError, StackrigError
from ..services import TestReset, registry
from ._rig import Rig

__all__ = ["Resets"]


class Resets:
    def __init__(self, stack: StackFile, rig: Rig) -> None:
        self.rig = rig
        self.services: dict[str, TestReset] = {}
        self._dirty: dict[str, StackrigError] = {}
        kinds = registry()
        for name, spec in stack.services.items():
            if name not in rig:
                continue
            make = kinds.get(spec.kind).reset
            if make is None:
                continue
            reset = make(spec, rig[name])
            if reset is not None:
                self.services[name] = reset

    @property
    def active(self) -> bool:
        return bool(self.services)

    def before(self, test_id: str) -> None:
        """Refuse to run a test on dirty data; give each service's reset its `before` step."""
        if self._dirty:
            name, err = next(iter(self._dirty.items()))
            raise IsolationError(
                f"not running {test_id}: service '{name}' could not be put back to its baseline after "
                f"the previous test, so this test would see its data:\n  {err}",
                hint="fix the cause above (often a transaction or lock the previous test left open)")
        failures = self._each(lambda name, r: r.before(test_id), "before", test_id, mark_dirty=False)
        _raise(failures, test_id, "setting up")

    def after(self, test_id: str, only: Collection[str] | None = None) -> None:
        """Every step, each on its own; raise what failed (reported on this test's teardown).
        `only`: reset just these services (and leave the fault proxy as it is)."""
        failures: list[tuple[str, StackrigError]] = []
        failures += self._step("factory sessions", self.rig.end_test)
        failures += self._step("taps", self.rig.close_taps)
        faults = self.rig.faults
        if faults is not None and only is None:
            failures += self._step("fault proxy", faults.reset)  # toxics removed, proxies enabled again
        failures += self._each(lambda name, r: r.after(test_id), "after", test_id, mark_dirty=True, only=only)
        _raise(failures, test_id, "resetting")

    def _step(self, what: str, fn: Callable[[], object]) -> list[tuple[str, StackrigError]]:
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - every step reports on its own
            return [(what, _as_stackrig(exc))]
        return []

    def _each(self, fn: Callable[[str, TestReset], None], phase: str, test_id: str,
              mark_dirty: bool, only: Collection[str] | None = None) -> list[tuple[str, StackrigError]]:
        failures: list[tuple[str, StackrigError]] = []
        for name, reset in self.services.items():
            if only is not None and name not in only:
                continue
            try:
                fn(name, reset)
            except Exception as exc:  # noqa: BLE001 - every service's step runs and reports on its own
                err = _as_stackrig(exc)
                failures.append((f"service '{name}'", err))
                if mark_dirty and reset.still_dirty():
                    self._dirty[name] = err
            else:
                if mark_dirty:
                    self._dirty.pop(name, None)
        return failures

    def close(self) -> None:
        for name, reset in self.services.items():
            try:
                reset.close()
            except Exception as exc:  # noqa: BLE001 - reported, not swallowed
                self.rig.problem(f"service '{name}': closing its per-test reset failed: {type(exc).__name__}: {exc}")


def _as_stackrig(exc: Exception) -> StackrigError:
    if isinstance(exc, StackrigError):
        return exc
    return IsolationError(f"{type(exc).__name__}: {exc}")


def _raise(failures: list[tuple[str, StackrigError]], test_id: str, doing: str) -> None:
    if not failures:
        return
    if len(failures) == 1:
        raise failures[0][1]
    lines = "\n".join(f"  - {what}: {str(err).replace(chr(10), chr(10) + '    ')}" for what, err in failures)
    raise IsolationError(f"{doing} after {test_id}: {len(failures)} steps failed (each ran on its own):\n{lines}")
