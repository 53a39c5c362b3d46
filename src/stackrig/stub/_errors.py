"""Errors of the HTTP stub server and its client.

::

    StackrigError
    ├── ConfigError
    │   └── MappingError         a stub mapping (file or admin body) is malformed; names file and JSON path
    ├── StubAdminError           an admin API call failed (status, body, what was asked)
    └── VerificationFailed       ``verify`` counted the wrong number of requests   (also AssertionError)
"""

from __future__ import annotations

from pathlib import Path

from stackrig.errors import ConfigError, StackrigError

__all__ = ["MappingError", "StubAdminError", "VerificationFailed"]


class MappingError(ConfigError):
    """A WireMock stub mapping that cannot be understood.

    ``str()`` reads ``mappings/charge.json: $.request.bodyPatterns[0]: unknown matcher 'equalsTo'
    (did you mean 'equalTo'?)``.
    """

    def __init__(
        self,
        message: str,
        *,
        json_path: str = "$",
        file: Path | str | None = None,
        hint: str | None = None,
    ) -> None:
        self.json_path = json_path
        hint = hint or "correct the value at this JSON path; the format is WireMock's stub mapping JSON"
        super().__init__(message, file=file, key=json_path, hint=hint)

    def located(self, file: Path | str) -> MappingError:
        """The same error, attributed to ``file``."""
        return MappingError(self.message, json_path=self.json_path, file=file, hint=self.hint)

    def __str__(self) -> str:
        where = f"{self.file}: " if self.file is not None else ""
        text = f"{where}{self.json_path}: {self.message}"
        if self.hint:
            text += f"\n  fix: {self.hint}"
        return text


class StubAdminError(StackrigError):
    """The stub server's admin API refused or failed a call."""

    def __init__(self, message: str, *, status: int | None = None, body: str = "", hint: str | None = None):
        self.status = status
        self.body = body
        super().__init__(message, hint=hint)


class VerificationFailed(StackrigError, AssertionError):
    """``StubClient.verify`` found a different number of matching requests than expected."""
