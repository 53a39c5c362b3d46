"""Fault injection: a TCP proxy with a Toxiproxy-compatible control API, and its client.

Run the server with ``python -m stackrig.faults --api-port N [--config proxies.json]``;
break things from tests through :class:`FaultClient`::

    faults = FaultClient("http://127.0.0.1:8474")
    db = faults.proxy("db")
    with db.latency(200, jitter=50):
        ...                      # every byte from the database arrives >= 150 ms late
    with db.down():
        ...                      # connections are closed and refused
    print(faults.describe())     # the active toxics, for a failing test's report
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

# Lazy (PEP 562): `python -m stackrig.faults` starts the proxy without importing the client's httpx.
_EXPORTS = {
    "FaultClient": "._client", "Fault": "._client", "Toxic": "._client", "describe_proxies": "._client",
    "FaultError": "._errors", "FaultApiError": "._errors", "ProxyNotFound": "._errors",
    "FaultServerUnreachable": "._errors", "FaultConfigError": "._errors",
    "main": "._server", "serve": "._server",
}

if TYPE_CHECKING:
    from ._client import Fault, FaultClient, Toxic, describe_proxies
    from ._errors import FaultApiError, FaultConfigError, FaultError, FaultServerUnreachable, ProxyNotFound
    from ._server import main, serve


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())

__all__ = [
    "FaultClient",
    "Fault",
    "Toxic",
    "describe_proxies",
    "FaultError",
    "FaultApiError",
    "ProxyNotFound",
    "FaultServerUnreachable",
    "FaultConfigError",
    "main",
    "serve",
]

