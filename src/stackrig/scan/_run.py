"""`run_scan`: Schemathesis plus stackrig's own checks over a service's OpenAPI schema."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

from ._context import Context
from ._errors import ScanArgumentError, SchemaError
from ._fuzz import PHASES, Fuzz
from ._http import Target
from ._model import ScanResult, parse_checks
from ._schema import load_schema

__all__ = ["run_scan", "parse_auth", "DEFAULT_DELAY"]

DEFAULT_DELAY = 2.0
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # an HTTP header name (RFC 9110 token)


def parse_auth(auth: str | Sequence[str] | Mapping[str, str] | None) -> dict[str, str]:
    """``"Header: value"`` (or several, or a mapping) as headers; ScanArgumentError when one does not parse."""
    if auth is None:
        return {}
    if isinstance(auth, Mapping):
        items = [f"{k}: {v}" for k, v in auth.items()]
    else:
        items = [auth] if isinstance(auth, str) else list(auth)
    headers: dict[str, str] = {}
    for item in items:
        name, sep, value = str(item).partition(":")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value or not _TOKEN.match(name) or any(c in value for c in "\r\n"):
            why = ("no ':' between the header's name and value" if not sep
                   else "the header name is empty" if not name
                   else "the value is empty" if not value
                   else "the header name has characters a header name cannot have" if not _TOKEN.match(name)
                   else "the value has a line break")
            raise ScanArgumentError(f"--auth {item!r} is not a header: {why}",
                                    hint='write it as "Name: value", e.g. --auth "Authorization: Bearer TOKEN"')
        headers[name] = value
    return headers


def _phases(phases: Iterable[str] | None) -> tuple[str, ...] | None:
    if phases is None:
        return None
    chosen = tuple(p.strip().lower() for item in phases for p in str(item).split(",") if p.strip())
    unknown = [p for p in chosen if p not in PHASES]
    if unknown:
        raise ScanArgumentError(f"unknown Schemathesis phase: {', '.join(unknown)}",
                                hint=f"the phases are: {', '.join(PHASES)}")
    return chosen


def run_scan(base_url: str, openapi: str | None = None, auth: str | Sequence[str] | Mapping[str, str] | None = None,
             checks: Iterable[str] | str | None = None, *, delay: float = DEFAULT_DELAY, jwt_secret: str | None = None,
             max_examples: int | None = None, seed: int | None = None, phases: Iterable[str] | None = None,
             workers: int = 4, fuzz_workers: int = 1, timeout: float = 10.0, login_attempts: int = 25,
             progress: Callable[[str], None] | None = None) -> ScanResult:
    """Scan the HTTP service at `base_url` through its OpenAPI schema.

    `openapi` is a URL or a file (default: ``<base_url>/openapi.json``); `auth` one or more
    ``"Header: value"`` sent with every request (the missing-auth check leaves them out); `checks`
    the kinds to look for (default: all, see :data:`KINDS`). `delay` is the sleep, in seconds, the
    time-based SQL payloads ask for (0 turns them off); `jwt_secret` the HMAC key that signs the
    `auth` JWT, so an expired copy can be made. `max_examples`, `seed`, `phases` and `fuzz_workers`
    go to Schemathesis (its defaults when None); `workers` is how many operations stackrig's own
    checks scan at once. Raises ScanArgumentError (and SchemaError) for what cannot be used; the
    findings are in the result: ``result.ok("high")``.
    """
    started = time.perf_counter()
    say = progress or (lambda message: None)
    if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
        raise ScanArgumentError(f"cannot scan {base_url!r}: not an http(s) URL",
                                hint="pass the service's base URL, e.g. http://127.0.0.1:8000")
    headers = parse_auth(auth)
    kinds = parse_checks(checks)
    chosen_phases = _phases(phases)
    if delay < 0 or timeout <= 0 or workers < 1 or fuzz_workers < 1 or login_attempts < 1:
        raise ScanArgumentError("delay must be >= 0; timeout, workers, fuzz_workers and login_attempts > 0")
    if max_examples is not None and max_examples < 1:
        raise ScanArgumentError(f"max_examples must be at least 1, not {max_examples}")
    if "server-error" in kinds:
        import importlib.util

        if importlib.util.find_spec("schemathesis") is None:
            raise ScanArgumentError("the server-error check runs Schemathesis, which is not installed",
                                    hint="pip install 'stackrig[scan]' (or schemathesis>=4), or pass checks "
                                         "without server-error")
    location = openapi or base_url.rstrip("/") + "/openapi.json"
    schema = load_schema(location, headers=headers, timeout=timeout)
    if not schema.operations:
        raise SchemaError(f"the OpenAPI schema at {location} describes no operations: nothing to scan",
                          location=location)
    target_url = schema.base_url(base_url)
    count = len(schema.operations)
    say(f"scan: {count} operation{'s' if count != 1 else ''} of {target_url} (schema: {location}); "
        f"checks: {', '.join(kinds)}")
    target = Target(target_url, headers, timeout=max(timeout, delay * 3 + 5))
    ctx = Context(target=target, schema=schema, checks=kinds, delay=delay, jwt_secret=jwt_secret,
                  login_attempts=login_attempts)
    fuzz = None
    if "server-error" in kinds:
        fuzz = Fuzz(schema.document, target_url, headers, max_examples=max_examples, seed=seed, phases=chosen_phases,
                    workers=fuzz_workers, timeout=timeout)
        fuzz.start()
        say("scan: Schemathesis is running (examples, coverage, fuzzing, stateful) beside stackrig's checks"
            if chosen_phases is None else f"scan: Schemathesis is running ({', '.join(chosen_phases)})")
    try:
        if "cors" in kinds:
            from ._cors import check_cors

            check_cors(ctx)
        if "missing-auth" in kinds:
            from ._auth import check_missing_auth

            check_missing_auth(ctx)
        from ._inject import scan_operation

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="stackrig-scan") as pool:
            for future in [pool.submit(scan_operation, ctx, op) for op in schema.operations]:
                future.result()
        if "rate-limit" in kinds:
            from ._ratelimit import check_rate_limit

            check_rate_limit(ctx)
        say(f"scan: stackrig's checks done ({target.requests} requests, {time.perf_counter() - started:.1f} s)"
            + ("; waiting for Schemathesis" if fuzz is not None else ""))
        if fuzz is not None:
            fuzz.join()
    except BaseException:
        if fuzz is not None:
            fuzz.stop()
        raise
    finally:
        target.close()
    ctx.rate_limited_notes()
    result = ScanResult(target=target_url, schema=location, checks=kinds, findings=list(ctx.findings),
                        operations=len(schema.operations), requests=target.requests, notes=list(ctx.notes))
    if fuzz is not None:
        keys = {(f.kind, f.operation, f.parameter, f.location) for f in result.findings}
        result.findings += [f for f in fuzz.findings if (f.kind, f.operation, f.parameter, f.location) not in keys]
        result.notes += fuzz.notes
        result.requests += fuzz.requests
    result.sort()
    result.duration_s = time.perf_counter() - started
    return result
