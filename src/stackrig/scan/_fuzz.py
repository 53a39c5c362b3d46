"""Schemathesis, as a library, over the whole schema: its phases (examples, coverage, fuzzing,
stateful) with its `not_a_server_error` check; each operation's 5xx answers become `server-error`
findings (one per operation and status code), with Schemathesis's own curl line.

This is the same run as ``schemathesis run URL --checks not_a_server_error`` with the same
options (`max_examples`, `seed`, `phases`, `workers`), without its report files or its crash cache.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from typing import Any

from ._errors import ScanError
from ._model import DEFAULT_SEVERITY, Finding, shorten

__all__ = ["Fuzz", "PHASES"]

PHASES = ("examples", "coverage", "fuzzing", "stateful")


def _config(base_url: str, headers: dict[str, str], *, max_examples: int | None, seed: int | None,
            phases: tuple[str, ...] | None, workers: int, timeout: float) -> dict[str, Any]:
    config: dict[str, Any] = {
        "base-url": base_url,
        "checks": {"enabled": False, "not_a_server_error": {"enabled": True}},
        "cache": {"enabled": False},
        "generation": {"database": "none"},
        "workers": workers,
        "request-timeout": timeout,
        "output": {"sanitization": {"enabled": False}},
    }
    if headers:
        config["headers"] = dict(headers)
    if max_examples is not None:
        config["generation"]["max-examples"] = max_examples
    if seed is not None:
        config["seed"] = seed
    if phases is not None:
        config["phases"] = {name: {"enabled": name in phases} for name in PHASES}
    return config


def _describe(case: Any) -> str:
    parts = []
    for where, attr in (("path", "path_parameters"), ("query", "query"), ("header", "headers"),
                        ("cookie", "cookies")):
        value = getattr(case, attr, None)
        if value:
            parts.append(f"{where} {value}")
    body = getattr(case, "body", None)
    if body is not None and type(body).__name__ != "NotSet":
        parts.append(f"body {body!r}")
    return shorten("; ".join(parts), 200) or "(no parameters)"


@dataclass
class Fuzz:
    """One Schemathesis run in a thread: `start()`, then `join()` for its findings and notes."""

    document: dict[str, Any]
    base_url: str
    headers: dict[str, str]
    max_examples: int | None = None
    seed: int | None = None
    phases: tuple[str, ...] | None = None
    workers: int = 1
    timeout: float = 10.0
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    requests: int = 0
    error: BaseException | None = None
    _thread: threading.Thread | None = None
    _stream: Any = None
    _stopped: bool = False

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="stackrig-scan-schemathesis", daemon=True)
        self._thread.start()

    def stop(self, wait: float = 10.0) -> None:
        """Ask Schemathesis to stop after the current scenario, and wait for it (up to `wait` s)."""
        self._stopped = True
        if self._stream is not None:
            self._stream.stop()
        if self._thread is not None:
            self._thread.join(wait)

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join()
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        try:
            self._execute()
        except BaseException as exc:  # noqa: BLE001 - crosses to the caller's thread in join()
            self.error = exc if isinstance(exc, ScanError) else ScanError(
                f"Schemathesis failed: {type(exc).__name__}: {exc}")

    def _execute(self) -> None:
        import schemathesis
        from schemathesis.config import SchemathesisConfig
        from schemathesis.engine import events, from_schema

        config = SchemathesisConfig.from_dict(_config(
            self.base_url, self.headers, max_examples=self.max_examples, seed=self.seed, phases=self.phases,
            workers=self.workers, timeout=self.timeout))
        schema = schemathesis.openapi.from_dict(copy.deepcopy(self.document), config=config)
        self._stream = from_schema(schema).execute()
        if self._stopped:
            self._stream.stop()
        seen: dict[tuple[str, int], int] = {}
        for event in self._stream:
            if isinstance(event, events.ScenarioFinished):
                self.requests += len(event.recorder.interactions)
                self._collect(event.recorder, seen)
            elif isinstance(event, events.NonFatalError):
                info = event.info
                self.notes.append(f"schemathesis: {event.label}: {shorten(info.title + ': ' + info.message)}")
            elif isinstance(event, events.FatalError):
                raise ScanError(f"Schemathesis could not run: {type(event.exception).__name__}: {event.exception}")
        for (label, status), count in seen.items():
            if count > 1:
                self.notes.append(f"schemathesis: {label} answered {status} to {count} generated cases")

    def _collect(self, recorder: Any, seen: dict[tuple[str, int], int]) -> None:
        for case_id, checks in recorder.checks.items():
            for check in checks:
                info = check.failure_info
                if info is None or check.name != "not_a_server_error":
                    continue
                failure_case = info.failure.case_id or case_id
                node = recorder.cases.get(failure_case)
                interaction = recorder.interactions.get(failure_case)
                response = getattr(interaction, "response", None)
                if node is None or response is None:
                    continue
                case = node.value
                label = case.operation.label
                status = int(getattr(response, "status_code", 500))
                key = (label, status)
                seen[key] = seen.get(key, 0) + 1
                if seen[key] > 1:
                    continue
                data = getattr(getattr(getattr(case, "meta", None), "phase", None), "data", None)
                parameter = getattr(data, "parameter", None)
                where = getattr(data, "parameter_location", None)
                where = str(getattr(where, "value", where)) if where else None
                if parameter and "/" in str(parameter):  # a body's media type, not a field
                    parameter = None
                body = getattr(response, "content", b"") or b""
                self.findings.append(Finding(
                    kind="server-error", severity=DEFAULT_SEVERITY["server-error"], operation=label,
                    title=f"{status} on generated input (Schemathesis not_a_server_error)",
                    evidence=shorten(f"{status}: {body[:200]!r}"), curl=str(info.code_sample),
                    parameter=str(parameter) if parameter else None,
                    location=where,
                    payload=_describe(case)))
