"""Errors of the scan engine.

::

    StackrigError
    └── ScanError                    the scan could not be made (the target stopped answering, ...)
        └── ScanArgumentError        a bad argument: nothing was scanned       (also ValueError; the CLI exits 2)
            └── SchemaError          the OpenAPI schema cannot be fetched, parsed or used (names where and what)

A finding is not an error: :class:`~stackrig.scan.ScanResult` lists them and ``result.ok(fail_on)``
says whether any is at or above a severity.
"""

from __future__ import annotations

from ..errors import StackrigError

__all__ = ["ScanError", "ScanArgumentError", "SchemaError"]


class ScanError(StackrigError):
    """The scan could not be made."""


class ScanArgumentError(ScanError, ValueError):
    """An argument that cannot be used (an --auth header, a severity, a check name): nothing was scanned."""


class SchemaError(ScanArgumentError):
    """The OpenAPI schema at `location` (a URL or a file) cannot be fetched, parsed or used."""

    def __init__(self, message: str, *, location: str, hint: str | None = None) -> None:
        self.location = location
        super().__init__(message, hint=hint)
