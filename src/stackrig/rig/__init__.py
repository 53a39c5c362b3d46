"""What tests and scripts hold: `Stack` (load, up, down), `Rig` (a running stack), its
`ServiceHandle`s, the per-test resets and the pytest-xdist slices."""

from ._handle import ServiceHandle
from ._resets import Resets
from ._rig import Rig
from ._serve import serve_resets
from ._slices import make_slices, shared_services, worker_index
from ._stack import Stack

__all__ = ["Resets", "Rig", "ServiceHandle", "Stack", "make_slices", "serve_resets", "shared_services",
           "worker_index"]
