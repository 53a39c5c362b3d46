"""A pytest-xdist worker's slice of the shared servers.

The controller runs each server whose kind has a slicer once; worker `gwN` asks each such
kind for its slice (postgres: database ``<db>_gwN`` cloned from the baseline; redis: database
index ``N + 1``).
"""

from __future__ import annotations

from ..run import RunRecord, ServiceInfo
from ..services import Slice, registry
from ._handle import ServiceHandle

__all__ = ["shared_services", "make_slices", "worker_index"]


def worker_index(worker_id: str) -> int:
    """`gw3` -> 3."""
    digits = "".join(ch for ch in worker_id if ch.isdigit())
    return int(digits) if digits else 0


def shared_services(kinds: dict[str, str]) -> set[str]:
    """The services (name -> kind) that xdist workers share: those whose kind has a slicer."""
    reg = registry()
    return {name for name, kind in kinds.items() if reg.get(kind).shared}


def make_slices(record: RunRecord, worker_id: str) -> dict[str, tuple[ServiceInfo, Slice]]:
    """For each shared server of `record`: (its record, this worker's slice)."""
    reg = registry()
    index = worker_index(worker_id)
    slices: dict[str, tuple[ServiceInfo, Slice]] = {}
    for info in record.services:
        slicer = reg.get(info.kind).slicer
        if slicer is not None:
            slices[info.name] = (info, slicer(ServiceHandle(info), worker_id, index))
    return slices
