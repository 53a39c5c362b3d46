"""`kind = "tinykv"`: the tinykv server (`tinykv-server`, from this package), the example of a
stackrig service kind from another package, all in this folder (walked through in docs/kinds.md).

    [services.kv]
    kind = "tinykv"
    max_keys = 1000
    export = { KV_URL = "${url}" }

Tests get ``rig.client("kv")`` (a :class:`KvClient`); each test's writes are flushed after it; each
pytest-xdist worker gets a namespace of its own on one server.
"""

from stackrig.services import ServiceKind

from ._client import KvClient, TinyKvError, connect, kv_slice, make_reset
from ._service import TINYKV, TinyKvService
from ._spec import TinyKvSpec

__all__ = ["KIND", "TINYKV", "KvClient", "TinyKvError", "TinyKvService", "TinyKvSpec"]

KIND = ServiceKind(
    name="tinykv",
    spec=TinyKvSpec,
    service=TinyKvService,
    summary="tinykv, a tiny line-protocol key-value server: flushed after each test, a namespace per xdist worker",
    clients={"kv": connect},
    reset=make_reset,
    slicer=kv_slice,
    docs="docs/kinds.md",
)
