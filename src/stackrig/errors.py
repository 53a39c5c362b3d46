"""The one exception hierarchy of stackrig.

Every error a user can cause or meet derives from :class:`StackrigError`, and
its ``str()`` is the whole message a person needs: what was expected, what was
found, where (file and line, or service) and the fix.  The CLI prints that text
and exits non-zero with no traceback.

::

    StackrigError
    ├── ConfigError                  stack file: syntax, keys, types, references
    ├── ProviderNotFound             no server binary for a service (with install hints)
    ├── PortInUse                    a requested port is taken              (also OSError)
    ├── ServiceError                 a service could not be run             (carries the log tail)
    │   ├── ServiceExited            the process died while starting
    │   ├── ReadinessTimeout         it never became ready before the deadline (also TimeoutError)
    │   └── InitFailed               its `init` step failed
    ├── StackNotRunning              `status`/`down`/attach with no running stack
    └── IsolationError               per-test reset could not restore the baseline
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "StackrigError",
    "ConfigError",
    "ProviderNotFound",
    "PortInUse",
    "ServiceError",
    "ServiceExited",
    "ReadinessTimeout",
    "InitFailed",
    "StackNotRunning",
    "IsolationError",
]


class StackrigError(Exception):
    """Base of every stackrig error; ``str(err)`` is the complete user-facing message."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message)

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  fix: {self.hint}"
        return self.message


class ConfigError(StackrigError):
    """A mistake in the stack file, located by file, line and key."""

    def __init__(
        self,
        message: str,
        *,
        file: Path | str | None = None,
        line: int | None = None,
        key: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.file = Path(file) if file is not None else None
        self.line = line
        self.key = key
        super().__init__(message, hint=hint)

    @property
    def location(self) -> str:
        if self.file is None:
            return "stack file"
        return f"{self.file}:{self.line}" if self.line else str(self.file)

    def __str__(self) -> str:
        where = self.location
        key = f" [{self.key}]" if self.key else ""
        text = f"{where}:{key} {self.message}"
        if self.hint:
            text += f"\n  fix: {self.hint}"
        return text


class ProviderNotFound(StackrigError):
    """No binary for a service kind was found by any provider."""

    def __init__(self, message: str, *, service: str, tried: Sequence[str], hint: str | None = None) -> None:
        self.service = service
        self.tried = list(tried)
        super().__init__(message, hint=hint)

    def __str__(self) -> str:
        text = self.message
        if self.tried:
            text += "\n  looked in:\n" + "\n".join(f"    - {t}" for t in self.tried)
        if self.hint:
            text += f"\n  fix: {self.hint}"
        return text


class PortInUse(StackrigError, OSError):
    """A port that the stack file fixes is already taken."""

    def __init__(self, port: int, *, service: str, hint: str | None = None) -> None:
        self.port = port
        self.service = service
        super().__init__(
            f"service '{service}': port {port} on 127.0.0.1 is already in use",
            hint=hint or "remove the fixed `port` so stackrig allocates a free one, or stop what holds it",
        )


class ServiceError(StackrigError):
    """A service could not be brought up; carries its log file and tail."""

    def __init__(
        self,
        message: str,
        *,
        service: str,
        log_path: Path | None = None,
        log_tail: str = "",
        hint: str | None = None,
    ) -> None:
        self.service = service
        self.log_path = log_path
        self.log_tail = log_tail
        super().__init__(message, hint=hint)

    def __str__(self) -> str:
        text = self.message
        if self.log_tail.strip():
            tail = "\n".join("    | " + line for line in self.log_tail.rstrip().splitlines())
            where = f" ({self.log_path})" if self.log_path else ""
            text += f"\n  last lines of the log{where}:\n{tail}"
        elif self.log_path:
            text += f"\n  log: {self.log_path} (empty)"
        if self.hint:
            text += f"\n  fix: {self.hint}"
        return text


class ServiceExited(ServiceError):
    """The service's process exited before it became ready."""

    def __init__(self, message: str, *, service: str, returncode: int | None, **kw: object) -> None:
        self.returncode = returncode
        super().__init__(message, service=service, **kw)  # type: ignore[arg-type]


class ReadinessTimeout(ServiceError, TimeoutError):
    """The service did not pass its readiness probe before the deadline."""


class InitFailed(ServiceError):
    """A service's `init` step (SQL files or command) failed."""


class StackNotRunning(StackrigError):
    """An operation needs a running stack and there is none."""


class IsolationError(StackrigError):
    """Per-test isolation could not bring a service back to its baseline."""
