"""The generator process: the user's Locust file, headless, with every request into an HDR histogram.

``python -m stackrig.load SPEC.json`` — started by :func:`stackrig.load.run_load`, never imported
by it: Locust runs on gevent, which monkey-patches the whole process (sockets, threads, time), so
it lives here, in a child, and the CLI or pytest process that asked stays unpatched.

It hooks Locust's ``request`` event and keeps, per ``(name, method, status, failed)``, the exact
count, sum, min and max and an HDR histogram of the latencies in whole microseconds (Locust's own
float measurement, not its rounded statistics); per interval, a small histogram for the chart of
latency over time. At the end it writes the histograms (HDR's compressed encoding) and counters
as JSON to the result path the parent gave, or ``{"ok": false, "error": ...}`` when the Locust
file cannot be used. It also stops when its stdin closes (the parent died).
"""

# isort: off
import locust  # first: gevent's monkey-patching must come before anything else imports socket or threading

import gevent  # type: ignore[import-untyped]
import gevent.os  # type: ignore[import-untyped]

# isort: on
import importlib.machinery
import importlib.util
import json
import logging
import os
import sys
import time
import traceback
from typing import Any

from locust.env import Environment
from locust.util.load_locustfile import is_shape_class, is_user_class

from ._measures import HDR_HIGHEST_US, HDR_LOWEST_US, new_histogram

__all__ = ["main"]

_log = logging.getLogger("stackrig.load")


class Problem(Exception):
    """The Locust file cannot be used: the message for the parent, naming the file."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message)


def _user_frames(exc: BaseException, path: str) -> str:
    """The traceback from the first frame in the Locust file on (what its author wrote)."""
    frames = list(traceback.extract_tb(exc.__traceback__))
    real = os.path.realpath(path)
    for i, frame in enumerate(frames):
        if os.path.realpath(frame.filename) == real:
            frames = frames[i:]
            break
    text = "".join(traceback.format_list(frames[-8:]))
    return text.rstrip()


def load_locustfile(path: str) -> tuple[list[type[locust.User]], list[str]]:
    """Import the Locust file as Locust does; its User classes, and names of shape classes (ignored)."""
    directory = os.path.dirname(os.path.abspath(path))
    for entry in (directory, os.getcwd()):
        if entry not in sys.path:
            sys.path.insert(0, entry)
    module_name = os.path.splitext(os.path.basename(path))[0]
    if module_name == "locust":
        module_name = "locustfile"
    loader = importlib.machinery.SourceFileLoader(module_name, path)
    spec = importlib.util.spec_from_file_location(module_name, path, loader=loader)
    if spec is None:
        raise Problem(f"{path}: not a Python file Locust can import", hint="a Locust file is a .py file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        loader.exec_module(module)
    except SyntaxError as exc:
        where = f"{path}:{exc.lineno}" if exc.lineno else path
        text = (exc.text or "").rstrip("\n")
        shown = f"\n    {text}\n    {' ' * max((exc.offset or 1) - 1, 0)}^" if text.strip() else ""
        raise Problem(f"{where}: the Locust file has a syntax error: {exc.msg}{shown}",
                      hint="fix the file; `python -m py_compile FILE` shows the same error") from None
    except SystemExit as exc:
        raise Problem(f"{path}: the Locust file called sys.exit({exc.code!r}) while it was imported") from None
    except BaseException as exc:  # noqa: BLE001 - the author's code: any exception is theirs to see
        raise Problem(f"{path}: importing the Locust file raised {type(exc).__name__}: {exc}\n"
                      f"{_user_frames(exc, path)}",
                      hint="it is imported like `locust -f FILE` does: from its folder and the current one") from None
    found = [value for value in vars(module).values() if is_user_class(value)]
    if not found:
        raise Problem(f"{path}: the Locust file defines no User class",
                      hint="add a class deriving from locust.HttpUser (or FastHttpUser, User) with at least one "
                           "@task; classes with `abstract = True` do not count")
    for cls in found:
        if not cls.tasks:
            raise Problem(f"{path}: User class {cls.__name__} has no tasks",
                          hint="decorate a method with @task, or set `tasks = [...]`")
    shapes = [value.__name__ for value in vars(module).values() if is_shape_class(value)]
    return found, shapes


class Recorder:
    """Every request Locust reports, into histograms and counters."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.entries: dict[tuple[str, str, str, bool], list[Any]] = {}  # [count, sum_ms, min, max, hist]
        self.window = new_histogram()
        self.window_count = 0
        self.window_failures = 0
        self.series: list[list[float]] = []
        self.exceptions: dict[str, dict[str, Any]] = {}
        self.t0 = time.perf_counter()

    def on_request(self, request_type: str = "", name: str = "", response_time: float | None = None,
                   response: Any = None, exception: BaseException | None = None, **_: Any) -> None:
        value = float(response_time or 0.0)
        status_code = getattr(response, "status_code", None)
        status = str(int(status_code)) if isinstance(status_code, int | float) else ""
        failed = exception is not None
        key = (str(name), str(request_type), status, failed)
        row = self.entries.get(key)
        if row is None:
            row = self.entries[key] = [0, 0.0, value, value, new_histogram()]
        row[0] += 1
        row[1] += value
        if value < row[2]:
            row[2] = value
        if value > row[3]:
            row[3] = value
        micros = min(max(int(round(value * 1000)), HDR_LOWEST_US), HDR_HIGHEST_US)
        row[4].record_value(micros)
        self.window.record_value(micros)
        self.window_count += 1
        if failed:
            self.window_failures += 1

    def tick(self) -> None:
        """Close the current interval: one point of the latency-over-time chart."""
        t = time.perf_counter() - self.t0
        w = self.window
        if self.window_count:
            point = [round(t, 3), self.window_count, self.window_failures] + [
                w.get_value_at_percentile(p) / 1000.0 for p in (50, 95, 99)] + [w.get_max_value() / 1000.0]
        else:
            point = [round(t, 3), 0, 0, 0.0, 0.0, 0.0, 0.0]
        self.series.append(point)
        w.reset()
        self.window_count = self.window_failures = 0

    def on_user_error(self, exception: BaseException | None = None, tb: Any = None, **_: Any) -> None:
        """An exception a task raised (not a request that failed): by type and message."""
        msg = f"{type(exception).__name__}: {exception}" if exception is not None else "unknown error"
        row = self.exceptions.get(msg)
        if row is None:
            row = self.exceptions[msg] = {"msg": msg, "count": 0,
                                          "traceback": "".join(traceback.format_tb(tb)) if tb else ""}
        row["count"] += 1

    def finish(self) -> None:
        """The last, partial interval: a point of its own when it is long enough to mean something,
        else its requests are counted in the one before (its latencies are in the totals anyway)."""
        last = self.series[-1][0] if self.series else 0.0
        span = time.perf_counter() - self.t0 - last
        if not self.series or (self.window_count and span >= self.interval / 2):
            self.tick()
        elif self.window_count:
            self.series[-1][1] += self.window_count
            self.series[-1][2] += self.window_failures

    def ticker(self) -> None:
        n = 1
        while True:
            sleep_until(self.t0 + n * self.interval)
            self.tick()
            n += 1

    def to_json(self) -> list[dict[str, Any]]:
        return [{"name": name, "method": method, "status": status, "failed": failed, "count": row[0],
                 "sum_ms": row[1], "min_ms": row[2], "max_ms": row[3], "hdr": row[4].encode().decode("ascii")}
                for (name, method, status, failed), row in self.entries.items()]


def sleep_until(deadline: float) -> None:
    """Sleep to a `time.perf_counter()` deadline: gevent's timers run on the loop's cached clock,
    which is stale after a long step without the loop (importing the file), so one sleep may end early."""
    while (left := deadline - time.perf_counter()) > 0:
        gevent.sleep(left)


def _stop_at(deadline: float, runner: Any) -> None:
    sleep_until(deadline)
    runner.quit()


def _options(path: str, host: str, users: int, spawn_rate: float) -> Any:
    """Locust's parsed options, as `locust --headless` would have them (with the file's own options'
    defaults, from its ``init_command_line_parser`` listeners); no config files are read."""
    from locust.argument_parser import get_parser

    parser = get_parser(default_config_files=[])
    try:
        return parser.parse_args(["-f", path, "--headless", "-H", host, "-u", str(users), "-r", str(spawn_rate)])
    except SystemExit:
        raise Problem(f"{path}: Locust's options (with the file's own) did not parse; see the log above") from None


def _watch_parent(runner: Any) -> None:
    """Quit when stdin closes: the parent is gone."""
    try:
        fd = sys.stdin.fileno()
        gevent.os.make_nonblocking(fd)
        while gevent.os.nb_read(fd, 1024):
            pass
    except (OSError, ValueError):
        return
    _log.warning("the parent closed stdin: stopping")
    runner.quit()


def run(spec: dict[str, Any]) -> dict[str, Any]:
    path, host = str(spec["locustfile"]), str(spec["host"])
    users, spawn_rate, duration = int(spec["users"]), float(spec["spawn_rate"]), float(spec["duration"])
    user_classes, shapes = load_locustfile(path)
    warnings = []
    if shapes:
        warnings.append(f"{path}: LoadTestShape {', '.join(shapes)} ignored: stackrig load drives the users "
                        "with --users, --spawn-rate and --duration")
    options = _options(path, host, users, spawn_rate)
    events: Any = locust.events  # untyped hooks
    env = Environment(user_classes=user_classes, events=events, host=host, parsed_options=options,
                      locustfile=path)
    recorder = Recorder(float(spec.get("interval", 1.0)))
    events.request.add_listener(recorder.on_request)
    events.user_error.add_listener(recorder.on_user_error)
    runner = env.create_local_runner()
    events.init.fire(environment=env, runner=runner, web_ui=None)
    recorder.t0 = started = time.perf_counter()
    wall = time.time()
    runner.start(users, spawn_rate)
    stopper = gevent.spawn(_stop_at, started + duration, runner)
    ticker = gevent.spawn(recorder.ticker)
    watcher = gevent.spawn(_watch_parent, runner)
    runner.greenlet.join()
    elapsed = time.perf_counter() - started
    for greenlet in (stopper, ticker, watcher):
        greenlet.kill(block=False)
    recorder.finish()
    events.quitting.fire(environment=env, reverse=True)
    errors: list[dict[str, Any]] = sorted(
        ({"name": e.name, "method": e.method, "error": e.parse_error(e.error), "count": e.occurrences}
         for e in env.stats.errors.values()), key=lambda e: -int(e["count"]))
    exceptions = sorted(recorder.exceptions.values(), key=lambda e: -int(e["count"]))
    return {"ok": True, "started_at": wall, "elapsed_s": elapsed, "entries": recorder.to_json(),
            "series": recorder.series, "errors": errors, "exceptions": exceptions, "warnings": warnings,
            "user_classes": [c.__name__ for c in user_classes]}


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: python -m stackrig.load SPEC.json  (started by stackrig.load.run_load)\n")
        return 2
    with open(argv[0]) as f:
        spec = json.load(f)
    from locust import log

    setup: Any = log.setup_logging  # untyped
    setup(str(spec.get("loglevel", "INFO")))
    try:
        out = run(spec)
    except Problem as problem:
        out = {"ok": False, "error": {"kind": "locustfile", "message": problem.message, "hint": problem.hint}}
    tmp = f"{spec['result']}.tmp"
    with open(tmp, "w") as f:
        json.dump(out, f)
    os.replace(tmp, spec["result"])
    return 0 if out["ok"] else 3
