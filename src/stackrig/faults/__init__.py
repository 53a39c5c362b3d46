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

from ._client import Fault, FaultClient, Toxic, describe_proxies
from ._errors import FaultApiError, FaultConfigError, FaultError, FaultServerUnreachable, ProxyNotFound
from ._server import main, serve

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
