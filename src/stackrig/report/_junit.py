"""JUnit XML: one file from several runners' (pytest, Jest's jest-junit, ``go test -json``), and
stackrig's failure sections into a pytest JUnit file's ``<system-out>``.

Files are read and written with the standard library's ElementTree; text that XML 1.0 cannot
carry (terminal escapes, NULs) is written as ``#xHH``, as pytest does.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from pathlib import Path

from ._gotest import go_test_json_to_junit
from ._model import ReportError
from ._xml import write_xml, xml_safe

__all__ = ["merge_junit", "add_system_out", "read_junit"]

def read_junit(path: str | os.PathLike[str]) -> list[ET.Element]:
    """The ``<testsuite>`` elements of a JUnit file (``<testsuites>`` or a lone ``<testsuite>`` root), or
    of a ``go test -json`` stream (recognised by its first character, ``{``)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ReportError(f"cannot read {p}: {exc.strerror or exc}") from None
    if text.lstrip().startswith("{"):
        text = go_test_json_to_junit(text.splitlines())
    try:
        root = ET.fromstring(text.encode())
    except ET.ParseError as exc:
        raise ReportError(f"{p}: not XML ({exc})") from None
    if root.tag == "testsuite":
        return [root]
    if root.tag == "testsuites":
        return [child for child in root.iter("testsuite")]
    raise ReportError(f"{p}: not a JUnit file (its root is <{root.tag}>, not <testsuites> or <testsuite>)")


def _counts(suite: ET.Element) -> dict[str, int]:
    cases = suite.findall("testcase")
    return {
        "tests": len(cases),
        "failures": sum(1 for c in cases if c.find("failure") is not None),
        "errors": sum(1 for c in cases if c.find("error") is not None),
        "skipped": sum(1 for c in cases if c.find("skipped") is not None),
    }


def _time(element: ET.Element) -> float:
    try:
        return float(element.get("time", ""))
    except ValueError:
        return sum(_time(c) for c in element.findall("testcase")) if element.tag == "testsuite" else 0.0


def merge_junit(paths: Sequence[str | os.PathLike[str]], out: str | os.PathLike[str], name: str = "all") -> Path:
    """Merge JUnit files (pytest, jest-junit, any ``<testsuites>``/``<testsuite>`` file, and ``go test -json``
    output, converted) into ``out``: one ``<testsuites>`` root holding every suite, with totals.

    A suite's counts are recomputed from its test cases (nested suites are flattened), so the
    totals are right even when a runner left one out."""
    root = ET.Element("testsuites", name=name)
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    elapsed = 0.0
    for path in paths:
        for suite in read_junit(path):
            copy = ET.Element("testsuite", dict(suite.attrib))
            copy.extend(child for child in suite if child.tag != "testsuite")
            counts = _counts(copy)
            for key, value in counts.items():
                copy.set(key, str(value))
                totals[key] += value
            copy.set("time", f"{_time(suite):.3f}")
            copy.set("name", suite.get("name") or Path(path).stem)
            elapsed += _time(suite)
            root.append(copy)
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{elapsed:.3f}")
    return write_xml(root, out)


def add_system_out(path: str | os.PathLike[str], outputs: Iterable[tuple[str, str, str]]) -> int:
    """Append text to the ``<system-out>`` of test cases in a JUnit file: ``outputs`` are
    ``(classname, name, text)``; a case with no ``<system-out>`` gets one (before any ``<system-err>``,
    as the schema orders them).  Returns how many cases were changed; the file is left alone if none."""
    wanted: dict[tuple[str, str], list[str]] = {}
    for classname, name, text in outputs:
        wanted.setdefault((classname, xml_safe(name)), []).append(xml_safe(text))
    if not wanted:
        return 0
    tree = ET.parse(path)
    changed = 0
    for case in tree.getroot().iter("testcase"):
        texts = wanted.get((case.get("classname", ""), case.get("name", "")))
        if not texts:
            continue
        text = texts.pop(0)  # the same name twice (xdist --dist each): one text each, in order
        out = case.find("system-out")
        if out is None:
            out = ET.Element("system-out")
            err = case.find("system-err")
            case.insert(list(case).index(err) if err is not None else len(case), out)
            out.text = text
        else:
            out.text = f"{out.text}\n{text}" if out.text else text
        changed += 1
    if changed:
        write_xml(tree.getroot(), path)
    return changed
