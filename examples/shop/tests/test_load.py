"""Product browsing and checkout under load, with k6-style thresholds (``rig.load``): small enough
to run in the suite on a shared 2-core machine; scale it up with ``stackrig load`` (see the Locust
file)."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackrig import Rig

LOCUSTFILE = Path(__file__).parent / "load" / "locustfile.py"


@pytest.mark.slow
def test_browsing_and_checkout_hold_their_thresholds(rig: Rig) -> None:
    result = rig.load("api", LOCUSTFILE, users=6, spawn_rate=6, duration="6s", thresholds=[
        "http_req_failed: rate<0.01",
        "http_req_duration{name:browse}: p(95)<500",
        "http_req_duration{name:product}: p(95)<300",
        "http_req_duration{name:checkout}: p(95)<1000",
        "http_req_duration{name:pay}: p(95)<1500",
        "http_reqs{name:checkout}: count>0",
    ])
    print(result.render())
    result.assert_ok()
