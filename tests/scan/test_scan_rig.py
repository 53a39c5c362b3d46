"""`rig.scan(NAME, ...)`, the pytest side: a service of the stack by name (see rig_scan.py)."""

from __future__ import annotations

import pytest
from rig_scan import scan

from stackrig.errors import ServiceNotFound, StackrigError
from stackrig.rig import Rig
from stackrig.run._current import read_current

pytestmark = pytest.mark.slow


@pytest.fixture
def rig(scan_stack) -> Rig:  # noqa: ANN001
    record = read_current(scan_stack.folder)
    assert record is not None
    return Rig(record)


def test_rig_scan_takes_a_service_name(rig: Rig) -> None:
    rig_scan = getattr(Rig, "scan", scan)
    result = rig_scan(rig, "vulnerable", checks=["xss", "path-traversal"])
    assert [(f.kind, f.operation, f.parameter) for f in result.findings] == [
        ("xss", "GET /greet", "name"), ("path-traversal", "GET /files", "filename")]
    with pytest.raises(AssertionError, match="2 finding"):
        result.assert_ok("high")
    assert rig_scan(rig, "fixed", checks="xss,path-traversal,cors").ok("low")


def test_rig_scan_refuses_an_unknown_service_and_one_without_http(rig: Rig) -> None:
    rig_scan = getattr(Rig, "scan", scan)
    with pytest.raises(ServiceNotFound, match="did you mean 'vulnerable'"):
        rig_scan(rig, "vulnerabel")
    with pytest.raises(StackrigError, match="service 'db' has no HTTP URL"):
        rig_scan(rig, "db")
