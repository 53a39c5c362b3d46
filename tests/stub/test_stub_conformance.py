"""WireMock compatibility: replay the cases recorded from WireMock 3.13.2 against our server."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from stubhelpers import CONFORMANCE, OWN_CASES, READY_DEADLINE, REPO, StartStub, free_port


def _run_checker(base_url: str, cases: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(CONFORMANCE / "check.py"), base_url, str(cases)],
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _failures(result: subprocess.CompletedProcess[str]) -> str:
    lines = [ln for ln in result.stdout.splitlines() if not ln.startswith("PASS ")]
    return "\n".join(lines) + result.stderr


needs_corpus = pytest.mark.skipif(
    not (CONFORMANCE / "check.py").is_file(),
    reason=f"the shared WireMock conformance corpus is not at {CONFORMANCE}",
)


@needs_corpus
def test_all_shared_conformance_cases_pass(start_stub: StartStub, tmp_path: Path) -> None:
    server = start_stub(tmp_path)
    result = _run_checker(server.url, CONFORMANCE / "cases")
    assert result.returncode == 0, _failures(result)
    assert " 0 failed" in result.stdout.splitlines()[-1]


@needs_corpus
def test_own_cases_recorded_from_wiremock_pass(start_stub: StartStub, tmp_path: Path) -> None:
    """Behaviours the shared corpus keeps back (random-data fault, find order, default priority,
    equalToXml sibling order, templating without transformer, stubs by metadata, the near-miss
    table of 404 bodies...), recorded from WireMock 3.13.2 with tests/stub/record_cases.py."""
    server = start_stub(tmp_path)
    result = _run_checker(server.url, OWN_CASES)
    assert result.returncode == 0, _failures(result)


def _wiremock_jar() -> Path | None:
    candidates = [os.environ.get("STACKRIG_WIREMOCK_JAR", "")]
    for base in (REPO / "node_modules", Path.home() / ".cache" / "stackrig-bench" / "wiremock" / "node_modules"):
        candidates += [str(p) for p in sorted((base / "wiremock" / "build").glob("wiremock-standalone-*.jar"))]
    return next((Path(c) for c in candidates if c and Path(c).is_file()), None)


@needs_corpus
@pytest.mark.slow
def test_cases_also_pass_on_the_real_wiremock(tmp_path: Path) -> None:
    """Keeps the corpus honest: our own cases must hold for WireMock itself (when it is installed)."""
    jar, java = _wiremock_jar(), shutil.which("java")
    if jar is None or java is None:
        pytest.skip("needs `java` and the WireMock jar (npm install wiremock; or STACKRIG_WIREMOCK_JAR)")
    port = free_port()
    proc = subprocess.Popen(
        [java, "-jar", str(jar), "--port", str(port), "--bind-address", "127.0.0.1", "--disable-banner"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=tmp_path,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + READY_DEADLINE * 2
        while True:
            assert proc.poll() is None, "WireMock exited while starting"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/__admin/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "WireMock did not become healthy"
            time.sleep(0.2)
        result = _run_checker(f"http://127.0.0.1:{port}", OWN_CASES)
        assert result.returncode == 0, _failures(result)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
