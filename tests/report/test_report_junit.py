"""JUnit XML: stackrig's service logs in a failing test's <system-out>; merging pytest, Jest and Go files."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from junitparser import Error, Failure, JUnitXml, Skipped, TestCase, TestSuite
from report_helpers import Run

from stackrig.report import ReportError, add_system_out, go_test_json_to_junit, merge_junit


def cases(path: Path) -> dict[str, TestCase]:
    xml = JUnitXml.fromfile(str(path))
    suites = [xml] if isinstance(xml, TestSuite) else list(xml)
    return {f"{c.classname}::{c.name}": c for suite in suites for c in suite}


def test_the_failing_test_carries_the_service_log_in_system_out(real_run: Run) -> None:
    found = cases(real_run.junit)
    failing = found["test_suite::test_fails_with_logs"]
    assert isinstance(failing.result[0], Failure)
    out = failing.system_out or ""
    assert "stackrig: service logs during this test" in out
    assert "--- api (process, " in out and "request /during-the-failing-test" in out
    assert "printed by the failing test" not in out  # junit_logging = no (pytest's default): only stackrig's
    assert found["test_suite::test_ok_one"].system_out is None  # passing tests are left alone


def test_under_xdist_with_pytest_system_out_both_are_in_the_one_element(xdist_run: Run) -> None:
    failing = cases(xdist_run.junit)["test_suite::test_fails_with_logs"]
    assert len(failing._elem.findall("system-out")) == 1
    out = failing.system_out or ""
    assert "printed by the failing test" in out  # pytest's captured stdout (junit_logging = system-out)
    assert "request /during-the-failing-test" in out  # and stackrig's, sent by the worker with the report
    assert out.index("printed by the failing test") < out.index("stackrig: service logs")


def test_system_out_goes_before_system_err_and_bad_characters_are_marked(tmp_path: Path) -> None:
    path = tmp_path / "j.xml"
    path.write_text('<testsuites><testsuite name="s"><testcase classname="m" name="t"><failure/>'
                    "<system-err>err</system-err></testcase></testsuite></testsuites>")
    assert add_system_out(path, [("m", "t", "colour \x1b[31mred\x1b[0m"), ("m", "absent", "x")]) == 1
    case = cases(path)["m::t"]
    assert [child.tag for child in case._elem] == ["failure", "system-out", "system-err"]
    assert case.system_out == "colour #x1B[31mred#x1B[0m"
    assert add_system_out(path, []) == 0


CART, BROKEN = "example.com/shop/cart", "example.com/shop/broken"
GO_JSON = [
    {"Action": "start", "Package": CART},
    {"Action": "run", "Package": CART, "Test": "TestAdd"},
    {"Action": "output", "Package": CART, "Test": "TestAdd", "Output": "=== RUN   TestAdd\n"},
    {"Action": "output", "Package": CART, "Test": "TestAdd", "Output": "--- PASS: TestAdd (0.00s)\n"},
    {"Action": "pass", "Package": CART, "Test": "TestAdd", "Elapsed": 0},
    {"Action": "run", "Package": CART, "Test": "TestTotal"},
    {"Action": "output", "Package": CART, "Test": "TestTotal", "Output": "=== RUN   TestTotal\n"},
    {"Action": "output", "Package": CART, "Test": "TestTotal",
     "Output": "    cart_test.go:21: total = 10, want 12\n"},
    {"Action": "output", "Package": CART, "Test": "TestTotal",
     "Output": "--- FAIL: TestTotal (0.01s)\n"},
    {"Action": "fail", "Package": CART, "Test": "TestTotal", "Elapsed": 0.01},
    {"Action": "run", "Package": CART, "Test": "TestTable"},
    {"Action": "run", "Package": CART, "Test": "TestTable/empty"},
    {"Action": "pass", "Package": CART, "Test": "TestTable/empty", "Elapsed": 0},
    {"Action": "run", "Package": CART, "Test": "TestTable/big"},
    {"Action": "pause", "Package": CART, "Test": "TestTable/big"},
    {"Action": "cont", "Package": CART, "Test": "TestTable/big"},
    {"Action": "output", "Package": CART, "Test": "TestTable/big",
     "Output": "    cart_test.go:33: overflow\n"},
    {"Action": "fail", "Package": CART, "Test": "TestTable/big", "Elapsed": 0},
    {"Action": "fail", "Package": CART, "Test": "TestTable", "Elapsed": 0},
    {"Action": "run", "Package": CART, "Test": "TestSlow"},
    {"Action": "output", "Package": CART, "Test": "TestSlow",
     "Output": "    cart_test.go:40: slow test skipped in -short mode\n"},
    {"Action": "output", "Package": CART, "Test": "TestSlow", "Output": "--- SKIP: TestSlow (0.00s)\n"},
    {"Action": "skip", "Package": CART, "Test": "TestSlow", "Elapsed": 0},
    {"Action": "output", "Package": CART, "Output": "FAIL\n"},
    {"Action": "output", "Package": CART, "Output": "FAIL\texample.com/shop/cart\t0.015s\n"},
    {"Action": "fail", "Package": CART, "Elapsed": 0.015},
    {"ImportPath": "example.com/shop/broken [example.com/shop/broken.test]", "Action": "build-output",
     "Output": "# example.com/shop/broken\n"},
    {"ImportPath": "example.com/shop/broken [example.com/shop/broken.test]", "Action": "build-output",
     "Output": "broken/broken.go:3:1: syntax error: non-declaration statement outside function body\n"},
    {"ImportPath": "example.com/shop/broken [example.com/shop/broken.test]", "Action": "build-fail"},
    {"Action": "start", "Package": BROKEN},
    {"Action": "output", "Package": BROKEN, "Output": "FAIL\texample.com/shop/broken [build failed]\n"},
    {"Action": "fail", "Package": BROKEN, "Elapsed": 0,
     "FailedBuild": "example.com/shop/broken [example.com/shop/broken.test]"},
    {"Action": "start", "Package": "example.com/shop/cmd"},
    {"Action": "output", "Package": "example.com/shop/cmd", "Output": "?   \texample.com/shop/cmd\t[no test files]\n"},
    {"Action": "skip", "Package": "example.com/shop/cmd", "Elapsed": 0},
]


def go_stream() -> list[str]:
    """``go test -json ./...`` output, as test2json documents it (Time fields on every event)."""
    return [json.dumps({"Time": f"2024-06-01T10:00:{i // 10:02d}.{i % 10}00000Z", **e}) for i, e in enumerate(GO_JSON)]


def test_go_test_json_becomes_junit(tmp_path: Path) -> None:
    path = tmp_path / "go.xml"
    path.write_text(go_test_json_to_junit(go_stream()))
    found = cases(path)
    cart = "example.com/shop/cart"
    assert found[f"{cart}::TestAdd"].is_passed
    total = found[f"{cart}::TestTotal"]
    assert isinstance(total.result[0], Failure) and "total = 10, want 12" in (total.result[0].text or "")
    assert total.time == pytest.approx(0.01)
    assert found[f"{cart}::TestTable/empty"].is_passed
    assert isinstance(found[f"{cart}::TestTable/big"].result[0], Failure)
    slow = found[f"{cart}::TestSlow"]
    assert isinstance(slow.result[0], Skipped) and "skipped in -short mode" in (slow.result[0].message or "")
    broken = found["example.com/shop/broken::(package)"]
    assert isinstance(broken.result[0], Error) and broken.result[0].message == "build failed"
    assert "syntax error" in (broken.result[0].text or "")
    xml = JUnitXml.fromfile(str(path))
    by_name = {s.name: s for s in xml}
    assert (by_name[cart].tests, by_name[cart].failures, by_name[cart].skipped) == (6, 3, 1)
    assert by_name["example.com/shop/cmd"].tests == 0


JEST = textwrap.dedent("""\
    <?xml version="1.0" encoding="UTF-8"?>
    <testsuites name="jest tests" tests="3" failures="1" errors="0" time="1.204">
      <testsuite name="cart.test.js" errors="0" failures="1" skipped="1" timestamp="2024-06-01T10:00:00"
                 time="0.812" tests="3">
        <testcase classname="cart adds an item" name="cart adds an item" time="0.011">
        </testcase>
        <testcase classname="cart totals the items" name="cart totals the items" time="0.023">
          <failure>Error: expect(received).toBe(expected) // Object.is equality

    Expected: 12
    Received: 10
        at Object.toBe (/app/web/cart.test.js:14:19)</failure>
        </testcase>
        <testcase classname="cart applies a coupon" name="cart applies a coupon" time="0">
          <skipped/>
        </testcase>
      </testsuite>
    </testsuites>
    """)


def test_merge_junit_of_pytest_jest_and_go(real_run: Run, tmp_path: Path) -> None:
    (tmp_path / "jest.xml").write_text(JEST)
    (tmp_path / "go-test.json").write_text("\n".join(go_stream()) + "\n")
    out = merge_junit([real_run.junit, tmp_path / "jest.xml", tmp_path / "go-test.json"], tmp_path / "all.xml")
    xml = JUnitXml.fromfile(str(out))
    assert out.read_text().count("<testsuites") == 1
    names = [s.name for s in xml]
    assert names == ["pytest", "cart.test.js", "example.com/shop/cart", "example.com/shop/broken",
                     "example.com/shop/cmd"]
    found = cases(out)
    assert "request /during-the-failing-test" in (found["test_suite::test_fails_with_logs"].system_out or "")
    assert isinstance(found["cart totals the items::cart totals the items"].result[0], Failure)
    assert isinstance(found["example.com/shop/cart::TestTotal"].result[0], Failure)
    every = list(found.values())
    root = xml._elem
    assert int(root.get("tests")) == len(every) == 11 + 3 + 7
    assert int(root.get("failures")) == sum(1 for c in every if c.result and isinstance(c.result[0], Failure))
    assert int(root.get("errors")) == 1
    assert int(root.get("skipped")) == sum(1 for c in every if c.result and isinstance(c.result[0], Skipped))


def test_merge_junit_refuses_what_is_not_junit(tmp_path: Path) -> None:
    (tmp_path / "x.xml").write_text("<html/>")
    with pytest.raises(ReportError, match="not a JUnit file"):
        merge_junit([tmp_path / "x.xml"], tmp_path / "out.xml")
    (tmp_path / "y.xml").write_text("<testsuites")
    with pytest.raises(ReportError, match="not XML"):
        merge_junit([tmp_path / "y.xml"], tmp_path / "out.xml")
