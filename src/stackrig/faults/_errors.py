"""Errors of the fault proxy and its client.

::

    StackrigError
    └── FaultError                   anything the fault proxy or its client reports
        ├── FaultApiError            the control API answered an error status (carries status and body)
        │   └── ProxyNotFound        a proxy or toxic name the server does not know  (also LookupError)
        ├── FaultServerUnreachable   nothing answers at the control API address      (also ConnectionError)
        └── FaultConfigError         a bad ``--config`` file for the proxy server    (also ValueError)

On the server side, :class:`ApiProblem` is the internal twin of Toxiproxy's
``ApiError``: a message and an HTTP status, sent as ``{"error": ..., "status": ...}``.
"""

from __future__ import annotations

from ..errors import StackrigError

__all__ = [
    "FaultError",
    "FaultApiError",
    "ProxyNotFound",
    "FaultServerUnreachable",
    "FaultConfigError",
    "ApiProblem",
]


class FaultError(StackrigError):
    """Base of every error of ``stackrig.faults``."""


class FaultApiError(FaultError):
    """The fault proxy's control API refused a request."""

    def __init__(self, message: str, *, status: int, method: str, url: str, server_error: str,
                 hint: str | None = None) -> None:
        self.status = status
        self.method = method
        self.url = url
        self.server_error = server_error
        super().__init__(message, hint=hint)


class ProxyNotFound(FaultApiError, LookupError):
    """The named proxy (or toxic) does not exist on the fault proxy server."""


class FaultServerUnreachable(FaultError, ConnectionError):
    """No fault proxy server answers at the given control API address."""


class FaultConfigError(FaultError, ValueError):
    """The proxy server's ``--config`` file cannot be used."""


class ApiProblem(Exception):
    """Server side: a request failed with this HTTP status and Toxiproxy-style message."""

    def __init__(self, message: str, status: int) -> None:
        self.message = message
        self.status = status
        super().__init__(message)

    def body(self) -> dict[str, object]:
        return {"error": self.message, "status": self.status}
