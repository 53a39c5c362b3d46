"""`run_load`: start the generator process, wait for it, read its histograms, evaluate the thresholds."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ._errors import LoadArgumentError, LoadError, LocustfileError
from ._measures import Entry, Measures
from ._result import ALL, LoadResult, build
from ._thresholds import Threshold, parse_thresholds

__all__ = ["run_load", "parse_duration"]

_SPAN = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_GRACE_S = 60.0  # on top of the duration: the generator's start (importing Locust) and its stop


def parse_duration(value: float | int | str) -> float:
    """Seconds from ``10``, ``"10"``, ``"10s"``, ``"1m30s"``, ``"500ms"``, ``"1h"``."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        text = str(value).strip()
        try:
            seconds = float(text)
        except ValueError:
            seconds = 0.0
            pos = 0
            for found in _SPAN.finditer(text):
                if found.start() != pos:
                    break
                seconds += float(found.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[found.group(2)]
                pos = found.end()
            if pos != len(text) or not text:
                raise LoadArgumentError(f"duration {value!r} is not a duration",
                                        hint="write it as 10s, 1m30s, 500ms, 1h, or a number of seconds") from None
    if not math.isfinite(seconds) or seconds <= 0:
        raise LoadArgumentError(f"duration {value!r} must be more than zero", hint="e.g. --duration 10s")
    return seconds


def _check(locustfile: str, host: str, users: int, spawn_rate: float) -> None:
    path = Path(locustfile)
    if not path.exists():
        raise LocustfileError(f"no Locust file at {locustfile}", file=locustfile,
                              hint="pass the path of an existing locustfile.py (relative to the current folder)")
    if not path.is_file():
        raise LocustfileError(f"{locustfile} is not a file", file=locustfile, hint="pass a locustfile.py")
    if not re.match(r"https?://[^/\s]+", host or ""):
        raise LoadArgumentError(f"host {host!r} is not an http(s) URL", hint="e.g. http://127.0.0.1:8080")
    if users < 1:
        raise LoadArgumentError(f"users must be at least 1, not {users}")
    if not spawn_rate > 0:
        raise LoadArgumentError(f"spawn rate must be more than 0 users per second, not {spawn_rate}")


def _tail(path: str, lines: int = 30) -> str:
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:]).rstrip()
    except OSError:
        return ""


def _child_env(extra: Mapping[str, str] | None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra or {})
    here = str(Path(__file__).resolve().parents[2])  # the folder holding the stackrig package
    env["PYTHONPATH"] = os.pathsep.join(p for p in (here, env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _generate(spec: dict[str, Any], log_path: str, timeout: float, env: Mapping[str, str] | None) -> dict[str, Any]:
    """Run the generator process; its result (or raise what went wrong, with its log's tail)."""
    folder = os.path.dirname(spec["result"])
    spec_path = os.path.join(folder, "spec.json")
    with open(spec_path, "w") as f:
        json.dump(spec, f)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "stackrig.load", spec_path], stdin=subprocess.PIPE,
                                stdout=log, stderr=subprocess.STDOUT, env=_child_env(env))
    try:
        code = proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise LoadError(f"the load generator did not finish within {timeout:.0f} s; it was killed\n"
                        f"  last lines of its log ({log_path}):\n{_indent(_tail(log_path))}") from None
    except BaseException:  # Ctrl-C, SIGTERM: never leave the generator behind
        proc.kill()
        proc.wait()
        raise
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
    try:
        with open(spec["result"]) as f:
            data: dict[str, Any] = json.load(f)
    except (OSError, ValueError):
        raise LoadError(f"the load generator exited with code {code} and no result\n"
                        f"  last lines of its log ({log_path}):\n{_indent(_tail(log_path))}") from None
    if not data.get("ok"):
        error = data.get("error") or {}
        if error.get("kind") == "locustfile":
            raise LocustfileError(str(error.get("message")), file=spec["locustfile"], hint=error.get("hint"))
        raise LoadError(f"the load generator failed: {error.get('message')}")
    return data


def _indent(text: str) -> str:
    return "\n".join("    | " + line for line in text.splitlines()) or "    (empty)"


def run_load(locustfile: str | os.PathLike[str], host: str, *, users: int = 10, spawn_rate: float | None = None,
             duration: float | str = "10s",
             thresholds: Iterable[str] | Mapping[str, str | Sequence[str]] = (),
             out: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None,
             timeout: float | None = None) -> LoadResult:
    """Run `locustfile` headless against `host` with `users` (spawned at `spawn_rate` per second, all
    within a second by default) for `duration`; return what was measured and each threshold's verdict.

    Raises for what prevents a run (`LocustfileError`, `ThresholdSyntaxError`, `LoadArgumentError`,
    `LoadError`); a threshold that fails does not raise: see ``result.ok`` or ``result.assert_ok()``.
    With `out`, the charts (SVG), ``result.json`` and the generator's log ``locust.log`` go there.
    """
    parsed: list[Threshold] = parse_thresholds(thresholds)
    seconds = parse_duration(duration)
    rate = float(spawn_rate) if spawn_rate is not None else float(users)
    path = os.fspath(locustfile)
    _check(path, host, users, rate)
    folder = Path(out) if out is not None else None
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    interval = max(1.0, math.ceil(seconds / 600))
    with tempfile.TemporaryDirectory(prefix="stackrig-load-") as tmp:
        log_path = str(folder / "locust.log") if folder is not None else os.path.join(tmp, "locust.log")
        spec = {"locustfile": os.path.abspath(path), "host": host.rstrip("/"), "users": users, "spawn_rate": rate,
                "duration": seconds, "interval": interval, "result": os.path.join(tmp, "result.json")}
        data = _generate(spec, log_path, timeout if timeout is not None else seconds + _GRACE_S, env)
        log_tail = _tail(log_path, 40)
    measures = Measures([Entry.from_json(e) for e in data["entries"]], float(data["elapsed_s"]))
    warnings = list(data.get("warnings") or [])
    if ALL in measures.names():
        warnings.append(f"a request is named {ALL!r}: the overall row of that name replaces its row")
    if not measures.entries:
        warnings.append("no request completed: does each task make a request (self.client.get(...))?")
    result = build(measures, parsed, host=host, locustfile=path, users=users, elapsed_s=measures.elapsed_s,
                   errors=list(data.get("errors") or []), exceptions=list(data.get("exceptions") or []),
                   warnings=warnings, series=list(data.get("series") or []), log_tail=log_tail)
    if folder is not None:
        from ._charts import write_charts

        result.out = str(folder)
        result.log_path = str(folder / "locust.log")
        result.charts = write_charts(result, folder)
        (folder / "result.json").write_text(json.dumps(result.to_json(), indent=2) + "\n")
    return result


def timestamp() -> str:
    """A folder name for a run: ``20260101-120000``."""
    return time.strftime("%Y%m%d-%H%M%S")
