"""Errors of per-test isolation, all :class:`stackrig.errors.IsolationError`.

::

    IsolationError                  (stackrig.errors)
    ├── NotInstalled                reset/clone before install(), or install() impossible
    ├── ResetBlocked                other sessions held locks past lock_timeout (also TimeoutError)
    └── ResetFailed                 the baseline could not be restored: the database is dirty
"""

from __future__ import annotations

from collections.abc import Sequence

from stackrig.errors import IsolationError

from ._report import Session

__all__ = ["IsolationError", "NotInstalled", "ResetBlocked", "ResetFailed"]


def _test(test_id: str | None) -> str:
    return f"test {test_id}" if test_id else "the last test (no test id given)"


class NotInstalled(IsolationError):
    """The isolation objects are missing (or cannot be created) in the database."""

    def __init__(self, message: str, *, database: str, hint: str | None = None) -> None:
        self.database = database
        super().__init__(message, hint=hint)


class ResetBlocked(IsolationError, TimeoutError):
    """A reset waited ``lock_timeout`` for locks that other sessions kept after a test.

    The blocking sessions were terminated and the reset retried; ``restored``
    says whether the baseline is back (the next test starts clean) or not.
    """

    def __init__(
        self,
        *,
        database: str,
        test_id: str | None,
        lock_timeout: float,
        blockers: Sequence[Session],
        restored: bool,
    ) -> None:
        self.database = database
        self.test_id = test_id
        self.lock_timeout = lock_timeout
        self.blockers = tuple(blockers)
        self.restored = restored
        found = "\n".join(f"    - {b.describe()}" for b in self.blockers) or "    - (they had gone when looked up)"
        outcome = (
            "stackrig terminated them (pg_terminate_backend) and restored the baseline: the next test starts clean"
            if restored
            else "stackrig terminated them but still could NOT restore the baseline: the database is dirty"
        )
        message = (
            f"database '{database}': reset after {_test(test_id)} timed out after {lock_timeout:g}s "
            f"(lock_timeout) waiting for locks.\n"
            f"  expected: every transaction the test (or the app it drove) opened is committed or rolled back, "
            f"and no explicit lock is left\n"
            f"  found {len(self.blockers)} session(s) in the way:\n{found}\n  {outcome}"
        )
        super().__init__(
            message,
            hint="end the transaction the test leaves open (commit/rollback, close the cursor or session); "
            "if the app holds it, make its request handlers end their transactions before responding",
        )


class ResetFailed(IsolationError):
    """The reset could not bring the database back to its baseline; it is dirty."""

    def __init__(self, *, database: str, test_id: str | None, cause: str, hint: str | None = None) -> None:
        self.database = database
        self.test_id = test_id
        self.cause = cause
        super().__init__(
            f"database '{database}': reset after {_test(test_id)} failed, so the database is NOT at its "
            f"baseline (expected: the baseline restored in place; found: {cause})",
            hint=hint
            or "the next test must not run on this data: fix the cause above, then call install() again "
            "(or restart the stack)",
        )
