"""pytest-xdist: worker `gwN` gets its own vhost on the one node the controller runs.

The vhost (``<vhost>-gwN``; ``stackrig-gwN`` for the default ``/``) is created by the node's helper
with the service user's permissions, tracing on (for the per-test reset and firehose taps) and the
per-vhost part of the definitions (exchanges, queues, bindings, policies, parameters of the
service's vhost, as the stack file and the definitions file declare them) imported into it.
Taps, queues and the per-test reset of a worker use its vhost only: no worker sees another's
messages.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from ...errors import StackrigError
from ...services import Endpoint, Slice
from ._helper import ControlClient

__all__ = ["rabbit_slice", "slice_vhost"]


def slice_vhost(vhost: str, worker_id: str) -> str:
    return f"stackrig-{worker_id}" if vhost == "/" else f"{vhost}-{worker_id}"


def rabbit_slice(endpoint: Endpoint, worker_id: str, index: int) -> Slice:
    attrs = endpoint.attributes
    if not attrs.get("control_port"):
        raise StackrigError(f"service '{endpoint.name}': this RabbitMQ node was not started by stackrig's rabbitmq "
                            "kind (no control helper), so it cannot be sliced for pytest-xdist workers")
    vhost = slice_vhost(attrs.get("vhost", "/"), worker_id)
    definitions = ""
    path = attrs.get("slice_definitions")
    if path:
        try:
            definitions = Path(path).read_text()
        except OSError as exc:
            raise StackrigError(f"service '{endpoint.name}': cannot read the definitions for worker {worker_id}'s "
                                f"vhost ({path}): {exc}") from None
    control = ControlClient(int(attrs["control_port"]), attrs.get("control_token", ""), service=endpoint.name)
    try:
        control.call("slice", vhost=vhost, user=attrs.get("user", "guest"), definitions=definitions)
    finally:
        control.close()
    base = endpoint.direct_url.rsplit("/", 1)[0]
    return Slice(url=f"{base}/{quote(vhost, safe='')}", attributes={"vhost": vhost})
