"""A coverage session: the services under test measured while the tests run, combined at the end.

The outermost stackrig process (the pytest controller, ``stackrig run``, ``stackrig up``) starts a
session: a folder under ``.stackrig/coverage/`` named in ``STACKRIG_COVERAGE_SESSION``, which every
run it starts — xdist workers' included — inherits.  A Python service gets ``COVERAGE_PROCESS_START``
(coverage.py's ``.pth`` hook measures it and its subprocesses; data saved on SIGTERM, one file per
process); a Node service gets ``NODE_V8_COVERAGE``.  At the end the session combines each service's
files — however many replicas, restarts and workers wrote them — into
``.stackrig/coverage/<service>.coverage`` (a coverage.py data file: ``coverage report
--data-file ...``) or ``<service>.lcov``, with ``summary.json`` beside them.
"""

from __future__ import annotations

import configparser
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import StackrigError

__all__ = ["ENV", "CoverageSession", "ServiceCoverage"]

ENV = "STACKRIG_COVERAGE_SESSION"
_PRELOAD = Path(__file__).with_name("_node_preload.js")


@dataclass
class ServiceCoverage:
    service: str
    language: str  # "python" or "node"
    percent: float | None
    covered: int
    total: int
    data: str  # the combined file
    processes: int  # raw files combined (replicas, restarts, xdist workers)
    files: dict[str, float] = field(default_factory=dict)  # source file -> percent
    note: str = ""

    def line(self) -> str:
        pct = f"{self.percent:.1f}%" if self.percent is not None else "no data"
        extra = f" ({self.note})" if self.note else ""
        return (f"{self.service:<16} {self.language:<6} {pct:>7}  {self.covered}/{self.total} lines, "
                f"{self.processes} process{'es' if self.processes != 1 else ''}  {self.data}{extra}")


class CoverageSession:
    def __init__(self, folder: Path, project: Path, owner: bool) -> None:
        self.folder = folder
        self.project = project
        self.owner = owner  # this process started it and finishes it

    @classmethod
    def current(cls) -> CoverageSession | None:
        value = os.environ.get(ENV)
        if not value:
            return None
        folder = Path(value)
        return cls(folder, folder.parent.parent.parent, owner=False)

    @classmethod
    def start(cls, project: Path) -> CoverageSession:
        """A new session for `project`, inherited by every process this one starts."""
        folder = project / ".stackrig" / "coverage" / f"session-{os.getpid()}-{time.time_ns()}"
        folder.mkdir(parents=True, exist_ok=True)
        os.environ[ENV] = str(folder)
        return cls(folder, project, owner=True)

    # -- what a service's process gets ------------------------------------------------
    def python_env(self, service: str, cwd: Path, source: list[str], omit: list[str]) -> dict[str, str]:
        raw = self.folder / service / "python"
        raw.mkdir(parents=True, exist_ok=True)
        rc = configparser.ConfigParser()
        rc["run"] = {
            "data_file": str(raw / ".coverage"),
            "parallel": "true",
            "sigterm": "true",
            "patch": "subprocess",
            "source": "\n".join(source) if source else str(cwd),
            "relative_files": "false",
        }
        if omit:
            rc["run"]["omit"] = "\n".join(omit)
        path = self.folder / service / "coveragerc"
        with open(path, "w") as f:
            rc.write(f)
        return {"COVERAGE_PROCESS_START": str(path)}

    def node_env(self, service: str, env: dict[str, str], root: Path) -> dict[str, str]:
        """For a Node service whose sources are under `root`."""
        raw = self.folder / service / "node"
        raw.mkdir(parents=True, exist_ok=True)
        (self.folder / service / "root").write_text(str(root.resolve()))
        options = env.get("NODE_OPTIONS", "")
        return {"NODE_V8_COVERAGE": str(raw),
                "NODE_OPTIONS": f"{options} --require {_PRELOAD}".strip()}

    # -- the end ---------------------------------------------------------------------------
    def finish(self, extra_python: list[Path] | None = None) -> list[ServiceCoverage]:
        """Combine every service's data (and, in `combined.coverage`, the test process's own from
        `extra_python`); write the results and `summary.json`; remove the session's raw files."""
        out = self.project / ".stackrig" / "coverage"
        results: list[ServiceCoverage] = []
        for service_dir in sorted(p for p in self.folder.iterdir() if p.is_dir()) if self.folder.exists() else []:
            name = service_dir.name
            if (service_dir / "python").exists():
                results.append(self._python(name, service_dir / "python", out))
            if (service_dir / "node").exists():
                root_file = service_dir / "root"
                root = Path(root_file.read_text()) if root_file.exists() else self.project
                results.append(self._node(name, service_dir / "node", out, root))
        if extra_python:
            self._combined(results, extra_python, out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "summary.json").write_text(json.dumps([asdict(r) for r in results], indent=2))
        shutil.rmtree(self.folder, ignore_errors=True)
        if self.owner and os.environ.get(ENV) == str(self.folder):
            del os.environ[ENV]
        return results

    def _python(self, name: str, raw: Path, out: Path) -> ServiceCoverage:
        try:
            import coverage
        except ImportError:
            raise StackrigError(f"service '{name}': `coverage = true` needs coverage.py",
                                hint="pip install coverage") from None
        files = sorted(str(p) for p in raw.glob(".coverage*"))
        target = out / f"{name}.coverage"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.unlink(missing_ok=True)
        if not files:
            return ServiceCoverage(name, "python", None, 0, 0, str(target), 0,
                                   note="no data: was coverage.py installed in the service's interpreter, "
                                        "and did the service stop normally?")
        cov = coverage.Coverage(data_file=str(target))
        cov.combine(files, keep=False)
        cov.save()
        cov = coverage.Coverage(data_file=str(target))
        cov.load()
        covered = total = 0
        per_file: dict[str, float] = {}
        for measured in cov.get_data().measured_files():
            try:
                _, statements, _, missing, _ = cov.analysis2(measured)
            except Exception:  # noqa: BLE001 - a file that is gone or not Python: left out
                continue
            if not statements:
                continue
            hit = len(statements) - len(missing)
            covered, total = covered + hit, total + len(statements)
            per_file[measured] = round(100 * hit / len(statements), 1)
        pct = round(100 * covered / total, 1) if total else None
        return ServiceCoverage(name, "python", pct, covered, total, str(target), len(files), per_file)

    def _node(self, name: str, raw: Path, out: Path, root: Path) -> ServiceCoverage:
        from ._v8 import v8_line_counts, write_lcov

        files = sorted(raw.glob("coverage-*.json"))
        target = out / f"{name}.lcov"
        counts = v8_line_counts(files, root)
        hit, found = write_lcov(counts, target)
        per_file = {str(p): round(100 * sum(1 for c in lines.values() if c) / len(lines), 1)
                    for p, lines in counts.items() if lines}
        note = "" if files else "no data: did the service exit normally (SIGTERM handled)?"
        return ServiceCoverage(name, "node", round(100 * hit / found, 1) if found else None, hit, found,
                               str(target), len(files), per_file, note)

    def _combined(self, results: list[ServiceCoverage], extra: list[Path], out: Path) -> None:
        """The Python services' data and the test process's own (pytest-cov) in one file."""
        import coverage

        sources = [r.data for r in results if r.language == "python" and r.processes]
        sources += [str(p) for p in extra if p.exists()]
        if not sources:
            return
        target = out / "combined.coverage"
        target.unlink(missing_ok=True)
        cov = coverage.Coverage(data_file=str(target))
        cov.combine(sources, keep=True)
        cov.save()
