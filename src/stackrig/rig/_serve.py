"""The rig's operations on a run's control channel: ``reset`` (what happens between two pytest
tests — data, stubs, mailboxes, faults), for other test runners (Jest's ``afterEach``, `go test`)
through ``stackrig reset`` or one JSON line on the socket."""

from __future__ import annotations

import threading
import time

from ..errors import ServiceNotFound
from ..run import StackRunner
from ._resets import Resets
from ._rig import Rig

__all__ = ["serve_resets"]


def serve_resets(runner: StackRunner) -> None:
    """Answer ``{"op": "reset", "services": [...]}`` on `runner`'s control channel (call before or
    after `up()`; the resets are built on first use, from the run's record)."""
    lock = threading.Lock()
    built: list[Resets] = []

    def reset(request: dict[str, object]) -> dict[str, object]:
        with lock:
            if not built:
                assert runner.record is not None, "the stack is not up"
                built.append(Resets(runner.stack, Rig(runner.record)))
            resets = built[0]
            names = request.get("services") or None
            if names is not None:
                if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                    raise ServiceNotFound(f"reset: `services` must be a list of names, found {names!r}",
                                          service=str(names), available=list(runner.services))
                unknown = [n for n in names if n not in runner.services]
                if unknown:
                    raise ServiceNotFound(f"reset: no service named {', '.join(map(repr, unknown))} in this stack; "
                                          f"services: {', '.join(runner.services)}", service=unknown[0],
                                          available=list(runner.services))
            t0 = time.monotonic()
            label = str(request.get("label") or "stackrig reset")
            resets.after(label, only=names)
            done = [n for n in resets.services if names is None or n in names]
            return {"ok": True, "reset": done, "ms": round((time.monotonic() - t0) * 1000, 2)}

    runner.control_ops["reset"] = reset
