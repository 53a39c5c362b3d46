"""Load runs with thresholds: the user's Locust file, headless, against a URL; k6-style thresholds.

::

    from stackrig.load import run_load

    result = run_load("locustfile.py", "http://127.0.0.1:8080", users=10, duration="10s",
                      thresholds=["http_req_duration: p(95)<200", "http_req_failed: rate<0.01"])
    print(result.render())
    assert result.ok, result.failed

Locust runs in a child process (``python -m stackrig.load``): gevent monkey-patches the process
it runs in, and the caller's (pytest's, the CLI's) must stay as it is. Latencies go into HDR
histograms there, cross back encoded, and thresholds are evaluated here with k6's grammar and
semantics (docs/load.md).

Imports are lazy (PEP 562): the generator process imports this package before it patches.
"""

from __future__ import annotations

from .._lazy import lazy_exports

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ._errors import LoadArgumentError, LoadError, LocustfileError, ThresholdSyntaxError
    from ._measures import Distribution
    from ._result import LoadResult, RequestStats, ThresholdResult, ThresholdsFailed
    from ._run import parse_duration, run_load
    from ._thresholds import Threshold, parse_threshold, parse_thresholds

_EXPORTS = {
    "run_load": "._run", "parse_duration": "._run",
    "LoadResult": "._result", "RequestStats": "._result", "ThresholdResult": "._result",
    "ThresholdsFailed": "._result", "Distribution": "._measures",
    "Threshold": "._thresholds", "parse_threshold": "._thresholds", "parse_thresholds": "._thresholds",
    "LoadError": "._errors", "LoadArgumentError": "._errors", "LocustfileError": "._errors",
    "ThresholdSyntaxError": "._errors",
}

__all__ = [
    "Distribution",
    "LoadArgumentError",
    "LoadError",
    "LoadResult",
    "LocustfileError",
    "RequestStats",
    "Threshold",
    "ThresholdResult",
    "ThresholdSyntaxError",
    "ThresholdsFailed",
    "parse_duration",
    "parse_threshold",
    "parse_thresholds",
    "run_load",
]


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
