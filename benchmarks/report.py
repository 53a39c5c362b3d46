"""The run's report: what `--stackrig-report` costs a pytest run, against pytest-html, and how fast it opens.

    python benchmarks/report.py [--runs 5] [--passing 5000] [--failing 20] [--no-browser]

A generated suite of 5 000 passing and 20 failing tests against a small real stack (one
`kind = "process"` HTTP service; every test takes the `rig` fixture; each failing test makes the
service log a line, so its report carries a service-log section) is run, interleaved, `--runs`
times each (after one warm-up of each):

(a) plain `pytest` (the same plugins loaded in every run: stackrig, xdist, pytest-html; nothing
    else autoloaded; bytecode cached);
(b) `pytest --stackrig-report out/report.html` (writes report.html and report.json);
(c) `pytest --html out/pytest-html.html --self-contained-html` (pytest-html).

CPU time (user + sys of the pytest process and the service it reaps, from wait4) and wall time
of each pytest process, medians; CPU time is the robust one on a shared machine, where wall time
swings with the other load.  Then each report opens in headless Chromium
(Playwright, Debian's /usr/bin/chromium) `--runs` times: time from navigation start to first
contentful paint, and to the first screen of test rows (stackrig: its `stackrig-first-screen`
mark; pytest-html: the first row of its results table in the DOM, polled every frame).  And the
file sizes per 1 000 tests.

Targets: b/a <= 1.05; (b - a) <= 0.1 x (c - a).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, median, table, today  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

SERVER = '''
import os
from http.server import BaseHTTPRequestHandler, HTTPServer

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()

    def log_message(self, fmt, *args):
        print("request", self.path, flush=True)

HTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
'''


def make_suite(folder: Path, passing: int, failing: int) -> None:
    (folder / "server.py").write_text(SERVER)
    (folder / "stackrig.toml").write_text(textwrap.dedent(f"""\
        [services.api]
        kind = "process"
        command = ["{sys.executable}", "{folder / 'server.py'}"]
        ready = {{ http = "/health" }}
        """))
    tests = folder / "tests"
    tests.mkdir()
    per_file = 100
    for start in range(0, passing, per_file):
        body = "".join(f"\n\ndef test_pass_{i}(rig):\n    assert {i} >= 0\n"
                       for i in range(start, min(passing, start + per_file)))
        (tests / f"test_gen_{start // per_file:03d}.py").write_text(body.lstrip())
    body = "".join(f"\n\ndef test_fail_{i}(rig):\n    rig.http('api').get('/fail/{i}')\n"
                   f"    assert {i} < 0, 'failure number {i}'\n" for i in range(failing))
    (tests / "test_failing.py").write_text(body.lstrip())


CONFIGS = {
    "plain pytest": [],
    "--stackrig-report": ["--stackrig-report", "out/report.html"],
    "pytest-html --html": ["--html", "out/pytest-html.html", "--self-contained-html"],
}


# Every run loads the same plugins (and only those: other installed plugins' import time is noise
# here); only the options differ.  Bytecode is cached (in the run's folder), as on a developer's
# machine or a CI runner with a warm cache: PYTHONDONTWRITEBYTECODE would recompile and re-rewrite
# every module on every run and inflate the baseline.
PLUGINS = ["-p", "stackrig.pytest_plugin", "-p", "xdist.plugin", "-p", "pytest_metadata.plugin",
           "-p", "pytest_html.plugin"]


class Sample:
    """One pytest process: wall seconds, CPU seconds (user + sys, with the children it reaped: the
    stack's service), and what the report said it spent at session end."""

    def __init__(self, wall: float, cpu: float, written_ms: float | None) -> None:
        self.wall, self.cpu, self.written_ms = wall, cpu, written_ms


def run_once(folder: Path, extra: list[str]) -> Sample:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTEST_", "STACKRIG_")) and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", PYTHONPYCACHEPREFIX=str(folder / "pycache"))
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *PLUGINS, "tests", *extra]
    with tempfile.TemporaryFile("w+") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=folder, stdout=out, stderr=subprocess.STDOUT, text=True, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read()
    if proc.returncode != 1 or " failed" not in text:
        raise SystemExit(f"unexpected result of {' '.join(extra) or 'plain pytest'}:\n{text[-3000:]}")
    written = re.search(r"written in (\d+) ms", text)
    return Sample(wall, usage.ru_utime + usage.ru_stime, float(written.group(1)) if written else None)


FIRST_SCREEN_JS = {
    "stackrig": """() => new Promise(done => {
        const poll = () => {
            const mark = performance.getEntriesByName('stackrig-first-screen')[0];
            if (mark) done(mark.startTime); else requestAnimationFrame(poll);
        };
        poll();
    })""",
    "pytest-html": """() => new Promise(done => {
        const poll = () => {
            if (document.querySelector('#results-table tbody.results-table-row, #results-table tr.collapsible'))
                done(performance.now());
            else requestAnimationFrame(poll);
        };
        poll();
    })""",
}
FCP_JS = """() => new Promise(done => {
    const entry = performance.getEntriesByName('first-contentful-paint')[0];
    if (entry) return done(entry.startTime);
    new PerformanceObserver(list => done(list.getEntries()[0].startTime)).observe({type: 'paint', buffered: true});
    setTimeout(() => done(null), 5000);
})"""


def browser_times(pages: dict[str, Path], runs: int) -> dict[str, tuple[float, float | None]]:
    """Per report: medians of (first screen ms, first contentful paint ms)."""
    from playwright.sync_api import sync_playwright

    found: dict[str, tuple[float, float | None]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for name, path in pages.items():
                screens, paints = [], []
                for _ in range(runs + 1):  # the first is a warm-up (disk cache, Chromium's code cache)
                    page = browser.new_page(viewport={"width": 1280, "height": 900})
                    page.goto(path.as_uri(), wait_until="commit")
                    screens.append(page.evaluate(FIRST_SCREEN_JS[name]))
                    paints.append(page.evaluate(FCP_JS))
                    page.close()
                fcps = [x for x in paints[1:] if x is not None]
                found[name] = (median(screens[1:]), median(fcps) if fcps else None)
        finally:
            browser.close()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--passing", type=int, default=5000)
    parser.add_argument("--failing", type=int, default=20)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    tests = args.passing + args.failing
    folder = Path(tempfile.mkdtemp(prefix="stackrig-bench-report-"))
    try:
        make_suite(folder, args.passing, args.failing)
        samples: dict[str, list[Sample]] = {name: [] for name in CONFIGS}
        for extra in CONFIGS.values():  # warm-up: bytecode, the OS's caches
            run_once(folder, extra)
        for _ in range(args.runs):
            for name, extra in CONFIGS.items():
                samples[name].append(run_once(folder, extra))
        print(f"# report benchmark, {today()}: {machine()}; load average {os.getloadavg()[0]:.2f} at the end")
        print(f"# {tests} tests ({args.passing} passing, {args.failing} failing) against a 1-service stack, "
              f"{args.runs} interleaved runs each (medians)\n")
        cpu: dict[str, float] = {}
        for measure in ("cpu", "wall"):
            what = "CPU time (user + sys)" if measure == "cpu" else "wall time"
            values = {name: [getattr(x, measure) for x in runs] for name, runs in samples.items()}
            rows = []
            for pick, how in ((median, "median"), (min, "fastest")):
                got = {name: pick(v) for name, v in values.items()}
                base = got["plain pytest"]
                rows += [[f"{name} ({how})", f"{got[name]:.2f} s", f"{got[name] / base:.3f}x",
                          f"{got[name] - base:+.3f} s"] for name in CONFIGS]
                if measure == "cpu" and how == "median":
                    cpu = got
                ours, html = got["--stackrig-report"] - base, got["pytest-html --html"] - base
                share = ours / html if html > 0 else float("nan")
                verdict = ("met" if got["--stackrig-report"] / base <= 1.05 else "NOT met",
                           "met" if share <= 0.1 else "NOT met")
                rows.append([f"  => {how}: {got['--stackrig-report'] / base:.3f}x plain (<= 1.05: {verdict[0]}); "
                             f"overhead {share:.3f}x pytest-html's (<= 0.1: {verdict[1]})", "", "", ""])
            print(table(rows, [f"pytest run, {what}", "s", "vs plain", "overhead"]))
            print("runs (s): " + "; ".join(f"{name}: {' '.join(f'{v:.2f}' for v in vs)}"
                                           for name, vs in values.items()))
            print()
        written = [x.written_ms for x in samples["--stackrig-report"] if x.written_ms is not None]
        html_cpu = cpu["pytest-html --html"] - cpu["plain pytest"]
        if written and html_cpu > 0:
            own = median(written) / 1000
            print(f"the report's own session-end work (grouping, building, writing both files), as it says: median "
                  f"{own * 1000:.0f} ms ({' '.join(f'{w:.0f}' for w in written)}) = {own / cpu['plain pytest']:.3f} "
                  f"of plain pytest's CPU time, {own / html_cpu:.3f}x pytest-html's CPU overhead (median)")

        out = folder / "out"
        sizes = {"stackrig report.html": out / "report.html", "stackrig report.json": out / "report.json",
                 "pytest-html (self-contained)": out / "pytest-html.html"}
        print()
        print(table([[name, f"{p.stat().st_size / 1024:.0f} KiB", f"{p.stat().st_size / 1024 / (tests / 1000):.0f} KiB"]
                     for name, p in sizes.items()], ["file", "size", "per 1 000 tests"]))
        if not args.no_browser:
            if not Path(CHROMIUM).exists():
                print(f"\n(no {CHROMIUM}: time to first screen not measured)")
                return
            found = browser_times({"stackrig": out / "report.html", "pytest-html": out / "pytest-html.html"},
                                  args.runs)
            print()
            print(table([[name, f"{screen:.0f} ms", f"{fcp:.0f} ms" if fcp is not None else "-"]
                         for name, (screen, fcp) in found.items()],
                        ["report in headless Chromium", "first screen of rows", "first contentful paint"]))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
