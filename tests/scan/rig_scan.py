"""`Rig.scan`, exactly as proposed for `src/stackrig/rig/_rig.py` (which this work may not edit): the
tests call ``getattr(Rig, "scan", scan)``, so once the method is in `Rig` they test the real one
and this file can go."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from stackrig.errors import StackrigError

if TYPE_CHECKING:
    from stackrig.rig import Rig
    from stackrig.scan import ScanResult


def scan(self: Rig, name: str, openapi: str | None = None, auth: str | Sequence[str] | Mapping[str, str] | None = None,
         checks: Iterable[str] | str | None = None, **options: Any) -> ScanResult:
    """A security scan of the service, as `stackrig scan NAME` makes: Schemathesis plus stackrig's
    checks over its OpenAPI schema (default: the service's URL + /openapi.json). `options` go to
    :func:`stackrig.scan.run_scan` (delay, jwt_secret, max_examples, seed, phases, ...)."""
    from stackrig.scan import run_scan

    svc = self[name]
    if not svc.url.startswith(("http://", "https://")):
        raise StackrigError(f"rig.scan({name!r}): service '{name}' has no HTTP URL (its URL: {svc.url or 'none'})",
                            hint="scan a service that answers HTTP")
    return run_scan(svc.url, openapi=openapi, auth=auth, checks=checks, **options)
