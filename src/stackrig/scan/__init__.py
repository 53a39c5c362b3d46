"""Security scans of an HTTP service through its OpenAPI schema: Schemathesis plus stackrig's own checks.

::

    from stackrig.scan import run_scan

    result = run_scan("http://127.0.0.1:8000", auth="Authorization: Bearer eyJ...")
    print(result.render())
    assert result.ok("high"), result.failing("high")

Schemathesis (as a library) fuzzes every operation for 5xx answers; stackrig adds what it lacks:
SQL injection (error- and time-based) into every parameter and JSON body field, reflected XSS,
path traversal, CORS, missing authentication (no, tampered and expired credentials) and the
missing rate limit on login. Each finding has a kind, a severity, the operation and parameter, the
payload, the evidence and a curl line (docs/scan.md). Payload lists: ``payloads/`` (sources and
licences in its README.md).
"""

from .._lazy import lazy_exports

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._errors import ScanArgumentError as ScanArgumentError, ScanError as ScanError, SchemaError as SchemaError
    from ._model import (
        DEFAULT_SEVERITY as DEFAULT_SEVERITY,
        KINDS as KINDS,
        SEVERITIES as SEVERITIES,
        Finding as Finding,
        ScanResult as ScanResult,
        parse_checks as parse_checks,
        parse_severity as parse_severity,
    )
    from ._run import parse_auth as parse_auth, run_scan as run_scan
    from ._schema import load_schema as load_schema

_EXPORTS = {
    "run_scan": "._run",
    "parse_auth": "._run",
    "ScanResult": "._model",
    "Finding": "._model",
    "KINDS": "._model",
    "SEVERITIES": "._model",
    "DEFAULT_SEVERITY": "._model",
    "parse_checks": "._model",
    "parse_severity": "._model",
    "load_schema": "._schema",
    "ScanError": "._errors",
    "ScanArgumentError": "._errors",
    "SchemaError": "._errors",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
