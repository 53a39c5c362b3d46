"""``go test -json`` (test2json events, https://pkg.go.dev/cmd/test2json) as JUnit XML.

One event per line: ``{"Time", "Action", "Package", "Test", "Elapsed", "Output", "FailedBuild"}``
with ``Action`` one of start, run, pause, cont, pass, bench, fail, output, skip (and, since
Go 1.24, build-output and build-fail, keyed by ``ImportPath``).  Each package becomes a
``<testsuite>``, each test (subtests too, ``TestA/sub``) a ``<testcase>``; a failing test's output
is its ``<failure>``'s text.  A package that failed outside any test (a build failure, a panic in
``TestMain``, a timeout) gets a ``(package)`` test case with an ``<error>``.  Lines that are not
JSON (what ``go test`` wrote to stderr, merged in) are kept as the last suite's ``<system-err>``
(with no package at all, as the error of a ``go test`` suite's one case).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import Any

from ._xml import xml_safe as _safe

__all__ = ["go_test_json_to_junit"]


class _Case:
    def __init__(self) -> None:
        self.output: list[str] = []
        self.action = ""
        self.elapsed = 0.0


class _Package:
    def __init__(self, name: str) -> None:
        self.name = name
        self.tests: dict[str, _Case] = {}
        self.output: list[str] = []
        self.action = ""
        self.elapsed = 0.0
        self.started = ""
        self.failed_build = ""


def _case_element(pkg: _Package, name: str, case: _Case, error: str = "") -> ET.Element:
    el = ET.Element("testcase", classname=pkg.name, name=name, time=f"{case.elapsed:.3f}")
    text = _safe("".join(case.output))
    if case.action == "fail":
        failure = ET.SubElement(el, "failure", message="Failed", type="go test")
        failure.text = text
    elif case.action == "skip":
        reason = next((line.strip() for line in reversed(case.output) if line.strip() and "--- SKIP" not in line),
                      "skipped")
        ET.SubElement(el, "skipped", message=_safe(reason[:300]))
    elif case.action not in ("pass", "bench"):
        failed = ET.SubElement(el, "error", message=error or "the test did not finish (no pass, fail or skip event)")
        failed.text = text
    return el


def go_test_json_to_junit(lines: Iterable[str]) -> str:
    """The JUnit XML (``<testsuites>``, one ``<testsuite>`` per package) of a ``go test -json`` stream."""
    packages: dict[str, _Package] = {}
    builds: dict[str, list[str]] = {}
    stray: list[str] = []
    for line in lines:
        if not line.strip():
            continue
        try:
            event: dict[str, Any] = json.loads(line)
        except ValueError:
            stray.append(line)
            continue
        if not isinstance(event, dict):
            stray.append(line)
            continue
        action = str(event.get("Action", ""))
        if action in ("build-output", "build-fail"):
            builds.setdefault(str(event.get("ImportPath", "")), []).append(str(event.get("Output", "")))
            continue
        name = str(event.get("Package", ""))
        pkg = packages.get(name)
        if pkg is None:
            pkg = packages[name] = _Package(name)
            pkg.started = str(event.get("Time", ""))
        test = event.get("Test")
        target: _Case | _Package = pkg
        if test:
            target = pkg.tests.setdefault(str(test), _Case())
        if action == "output":
            target.output.append(str(event.get("Output", "")))
        elif action in ("pass", "fail", "skip", "bench"):
            target.action = action
            target.elapsed = float(event.get("Elapsed") or 0.0)
            if not test and event.get("FailedBuild"):
                pkg.failed_build = str(event["FailedBuild"])
    root = ET.Element("testsuites", name="go test")
    for pkg in packages.values():
        suite = ET.SubElement(root, "testsuite", name=pkg.name, time=f"{pkg.elapsed:.3f}")
        if pkg.started:
            suite.set("timestamp", pkg.started)
        for name, case in pkg.tests.items():
            suite.append(_case_element(pkg, name, case))
        failing = any(c.action == "fail" for c in pkg.tests.values())
        if pkg.action == "fail" and not failing:
            case = _Case()
            case.output = builds.get(pkg.failed_build, []) + pkg.output if pkg.failed_build else pkg.output
            why = "build failed" if pkg.failed_build else "the package failed outside its tests"
            suite.append(_case_element(pkg, "(package)", case, why))
        cases = suite.findall("testcase")
        suite.set("tests", str(len(cases)))
        suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
        suite.set("errors", str(sum(1 for c in cases if c.find("error") is not None)))
        suite.set("skipped", str(sum(1 for c in cases if c.find("skipped") is not None)))
        if pkg.output and (pkg.action != "fail" or failing):
            ET.SubElement(suite, "system-out").text = _safe("".join(pkg.output))
    if stray and len(root):
        ET.SubElement(root[-1], "system-err").text = _safe("\n".join(stray))
    elif stray:
        case = _Case()
        case.output = [line + "\n" for line in stray]
        suite = ET.SubElement(root, "testsuite", name="go test", tests="1", failures="0", errors="1", skipped="0")
        suite.append(_case_element(_Package("go test"), "(output)", case, "go test wrote no test events"))
    return '<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(root, encoding="unicode")
