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
    │   ├── InitFailed               its `init` step failed
    │   └── BuildFailed              its `build` step failed (the build log's tail)
    ├── StackNotRunning              `status`/`down`/attach with no running stack
    ├── ServiceNotFound              `rig["nope"]`: no such service in the stack (also KeyError)
    └── IsolationError               per-test reset could not restore the baseline

The engines add their own subclasses (``stackrig.stub``, ``stackrig.faults``,
``stackrig.isolation``, ``stackrig.mail``), all under :class:`StackrigError`.

Errors cross process boundaries (the control channel of a running stack) as a
*payload* (:meth:`StackrigError.to_payload`, :func:`error_from_payload`): the
receiver raises the same class with the same fields.
"""

from __future__ import annotations

import importlib
import os

TYPE_CHECKING = False  # not typing's: the quick commands import this module, and not typing or pathlib
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path
    from typing import Any

__all__ = [
    "StackrigError",
    "ConfigError",
    "ProviderNotFound",
    "PortInUse",
    "ServiceError",
    "ServiceExited",
    "ReadinessTimeout",
    "InitFailed",
    "BuildFailed",
    "StackNotRunning",
    "ServiceNotFound",
    "IsolationError",
    "error_from_payload",
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

    def to_payload(self) -> dict[str, Any]:
        """This error as JSON-able data: its class and fields (see :func:`error_from_payload`)."""
        fields: dict[str, Any] = {}
        paths: list[str] = []
        for key, value in vars(self).items():
            if key.startswith("_"):
                continue
            if isinstance(value, os.PathLike):
                paths.append(key)
                value = os.fspath(value)
            elif isinstance(value, tuple):
                value = list(value)
            if _jsonable(value):
                fields[key] = value
        cls = type(self)
        return {"type": f"{cls.__module__}:{cls.__qualname__}", "fields": fields, "paths": paths,
                "args": [a if _jsonable(a) else str(a) for a in self.args]}


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
        from pathlib import Path

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


class BuildFailed(ServiceError):
    """A service's `build` step (compiling it, installing its packages) failed."""


class StackNotRunning(StackrigError):
    """An operation needs a running stack and there is none."""


class ServiceNotFound(StackrigError, KeyError):
    """A service name that the stack does not declare (``rig["nope"]``)."""

    def __init__(self, message: str, *, service: str, available: Sequence[str], hint: str | None = None) -> None:
        self.service = service
        self.available = list(available)
        super().__init__(message, hint=hint)

    __str__ = StackrigError.__str__  # not KeyError's repr() of the argument


class IsolationError(StackrigError):
    """Per-test isolation could not bring a service back to its baseline."""


def _jsonable(value: object) -> bool:
    if value is None or isinstance(value, str | int | float | bool):
        return True
    if isinstance(value, list):
        return all(_jsonable(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _jsonable(v) for k, v in value.items())
    return False


def _resolve_class(name: str) -> type[StackrigError]:
    module, _, qualname = name.partition(":")
    if module != "stackrig" and not module.startswith("stackrig."):
        return StackrigError  # never import what a peer names outside stackrig
    try:
        found: Any = importlib.import_module(module)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        return StackrigError
    return found if isinstance(found, type) and issubclass(found, StackrigError) else StackrigError


def error_from_payload(payload: Mapping[str, Any]) -> StackrigError:
    """The error that :meth:`StackrigError.to_payload` described: same class, same fields."""
    cls = _resolve_class(str(payload.get("type", "")))
    exc = cls.__new__(cls)
    args = payload.get("args") or [payload.get("fields", {}).get("message", "unknown error")]
    BaseException.__init__(exc, *args)
    from pathlib import Path

    fields = dict(payload.get("fields") or {})
    for key in payload.get("paths") or ():
        if fields.get(key) is not None:
            fields[key] = Path(fields[key])
    fields.setdefault("message", str(args[0]) if args else "unknown error")
    fields.setdefault("hint", None)
    for key, value in fields.items():
        try:
            setattr(exc, key, value)
        except AttributeError:  # a read-only property of the class
            continue
    return exc
