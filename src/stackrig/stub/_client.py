"""``StubClient``: drive a stub server (ours or a real WireMock) through its admin API over HTTP."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    import httpx

from ._builders import Matcher, RequestSpec
from ._client_stubs import Stub, StubBuilder
from ._errors import StubAdminError, VerificationFailed

__all__ = ["RecordedRequest", "Stub", "StubBuilder", "StubClient"]


@dataclass(frozen=True)
class RecordedRequest:
    """A request the server received (from its journal)."""

    method: str
    url: str
    headers: dict[str, list[str]]
    body: bytes
    matched: bool | None = None
    id: str | None = None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        for key, values in self.headers.items():
            if key.lower() == name.lower() and values:
                return values[0]
        return None

    @classmethod
    def from_logged(
        cls, data: dict[str, Any], matched: bool | None = None, event_id: str | None = None
    ) -> RecordedRequest:
        headers: dict[str, list[str]] = {}
        for name, value in (data.get("headers") or {}).items():
            headers[name] = [str(v) for v in value] if isinstance(value, list) else [str(value)]
        if data.get("bodyAsBase64"):
            body = base64.b64decode(data["bodyAsBase64"])
        else:
            body = str(data.get("body") or "").encode("utf-8")
        return cls(str(data.get("method")), str(data.get("url")), headers, body, matched, event_id)

    def __str__(self) -> str:
        return f"{self.method} {self.url}"


@dataclass
class _Verification:
    spec: RequestSpec
    expected: str
    count: int
    matching: list[RecordedRequest] = field(default_factory=list)
    near: list[tuple[RecordedRequest, list[dict[str, str]]]] = field(default_factory=list)
    journal_size: int | None = None


class StubClient:
    """Talks to ``<base_url>/__admin``.  Usable as a context manager; ``close()`` frees the connection pool."""

    def __init__(self, base_url: str, *, timeout: float = 10.0) -> None:
        import httpx  # imported here so that the server process (which imports this package) never loads it

        self.base_url = base_url.rstrip("/")
        self._http: httpx.Client = httpx.Client(base_url=self.base_url + "/__admin", timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport -----------------------------------------------------------------------------------

    def _call(self, method: str, path: str, payload: Any = None, *, ok: tuple[int, ...] = ()) -> Any:
        import httpx

        try:
            resp = (
                self._http.request(method, path, json=payload)
                if payload is not None
                else self._http.request(method, path)
            )
        except httpx.HTTPError as exc:
            raise StubAdminError(
                f"cannot reach the stub server's admin API at {self.base_url}/__admin ({method} {path}): {exc}",
                hint="is the server running on that port? start it with `python -m stackrig.stub --port N --root DIR`",
            ) from exc
        if resp.status_code >= 300 and resp.status_code not in ok:
            detail = resp.text.strip()
            try:
                errors = resp.json().get("errors") or []
                detail = "; ".join(str(e.get("detail") or e.get("title")) for e in errors) or detail
            except (ValueError, AttributeError):
                pass
            sent = f"\n  sent: {json.dumps(payload)[:500]}" if payload is not None else ""
            raise StubAdminError(
                f"{method} {self.base_url}/__admin{path} answered {resp.status_code}: {detail}{sent}",
                status=resp.status_code,
                body=resp.text,
                hint="fix the mapping or call as the error says; "
                "WireMock's admin API reference documents each endpoint",
            )
        if not resp.content:
            return None
        try:
            return resp.json()
        except ValueError:
            return resp.text

    # -- stubs --------------------------------------------------------------------------------------

    def on(self, spec: RequestSpec, *, priority: int | None = None, name: str | None = None) -> StubBuilder:
        """Start a stub for requests matching ``spec``; finish with ``.reply(...)`` or ``.fault(...)``."""
        return StubBuilder(self, spec, priority, name)

    def add_mapping(self, mapping: dict[str, Any]) -> Stub:
        """Add a raw WireMock mapping (as in a mappings/*.json file)."""
        return Stub(self, self._call("POST", "/mappings", mapping))

    def mappings(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/mappings")["mappings"])

    def remove_all(self) -> None:
        self._call("DELETE", "/mappings")

    def reset_mappings(self) -> None:
        """Back to the mapping files: stubs added through the API go (WireMock also empties the journal)."""
        self._call("POST", "/mappings/reset")

    def find_by_metadata(self, pattern: Matcher | Mapping[str, Any]) -> list[dict[str, Any]]:
        """The mappings whose ``metadata`` matches ``pattern``, a WireMock string matcher such as
        ``matching_json_path("$.tags", containing("checkout"))`` or ``{"equalToJson": {...}}``."""
        return list(self._call("POST", "/mappings/find-by-metadata", _pattern_json(pattern))["mappings"])

    def remove_by_metadata(self, pattern: Matcher | Mapping[str, Any]) -> None:
        """Remove the mappings whose ``metadata`` matches ``pattern`` (as in :meth:`find_by_metadata`)."""
        self._call("POST", "/mappings/remove-by-metadata", _pattern_json(pattern))

    def reset(self) -> None:
        """Back to the mapping files, with an empty journal and every scenario at Started."""
        self._call("POST", "/reset")

    def reset_requests(self) -> None:
        self._call("DELETE", "/requests")

    # -- journal -------------------------------------------------------------------------------------

    def requests(self, spec: RequestSpec | None = None) -> list[RecordedRequest]:
        """Received requests, oldest first; only those matching ``spec`` when given."""
        if spec is not None:
            found = self._call("POST", "/requests/find", spec.to_json())
            return [RecordedRequest.from_logged(r) for r in found.get("requests", [])]
        events = self._call("GET", "/requests").get("requests", [])
        return [RecordedRequest.from_logged(e["request"], e.get("wasMatched"), e.get("id")) for e in reversed(events)]

    def unmatched(self) -> list[RecordedRequest]:
        found = self._call("GET", "/requests/unmatched").get("requests", [])
        return [RecordedRequest.from_logged(r, False) for r in reversed(found)]

    def count(self, spec: RequestSpec) -> int:
        return int(self._call("POST", "/requests/count", spec.to_json())["count"])

    def verify(self, spec: RequestSpec, times: int | None = 1, *, at_least: int | None = None) -> None:
        """Assert how many received requests match ``spec`` (exactly ``times``, or ``at_least``).

        On failure raises :class:`VerificationFailed` (an ``AssertionError``) listing the received
        requests that came closest and how each differs from ``spec``.
        """
        count = self.count(spec)
        if at_least is not None:
            if count >= at_least:
                return
            expected = f"at least {at_least}"
        else:
            if times is None:
                raise TypeError("give times= or at_least=")
            if count == times:
                return
            expected = f"exactly {times}"
        check = _Verification(spec, expected, count)
        if count:
            check.matching = self.requests(spec)
        near = self._call("POST", "/near-misses/request-pattern", spec.to_json()).get("nearMisses", [])
        for miss in near:
            result = miss.get("matchResult") or {}
            if not result.get("distance"):
                continue  # a perfect match is not a near miss
            diffs = [d for d in result.get("diffDescriptions", []) if isinstance(d, dict) and "field" in d]
            check.near.append((RecordedRequest.from_logged(miss["request"]), diffs))
        check.journal_size = self._call("GET", "/requests?limit=1").get("meta", {}).get("total")
        raise VerificationFailed(_verification_message(check), hint=_verification_hint(check))

    # -- scenarios and recording ----------------------------------------------------------------------

    def scenarios(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/scenarios")["scenarios"])

    def set_scenario_state(self, name: str, state: str) -> None:
        self._call("PUT", f"/scenarios/{name}/state", {"state": state})

    def reset_scenarios(self) -> None:
        self._call("POST", "/scenarios/reset")

    def start_recording(
        self,
        target_base_url: str | None = None,
        *,
        filters: RequestSpec | Mapping[str, Any] | None = None,
        repeats_as_scenarios: bool | None = None,
        persist: bool | None = None,
        capture_headers: Mapping[str, Mapping[str, Any]] | None = None,
        extract_body_criteria: Mapping[str, Any] | None = None,
        **record_spec: Any,
    ) -> None:
        """Proxy everything to ``target_base_url`` and remember what it answers, until :meth:`stop_recording`.

        The keywords are WireMock's record spec (``filters=get().url_matching("/api/.*")``,
        ``repeats_as_scenarios=False`` to keep only the newest answer to a repeated request,
        ``persist=False`` not to write mapping files ...); other record-spec fields can be given
        in WireMock's spelling, e.g. ``outputFormat="IDS"``.
        """
        spec = _record_spec(filters, repeats_as_scenarios, persist, capture_headers, extract_body_criteria, record_spec)
        if target_base_url is not None:
            spec = {"targetBaseUrl": target_base_url, **spec}
        self._call("POST", "/recordings/start", spec)

    def stop_recording(self) -> list[dict[str, Any]]:
        """Stop; the recorded mappings are returned, served from now on and (with ``persist``) written
        to the mappings folder.  Repeats of a request with different answers form a scenario."""
        return list(self._call("POST", "/recordings/stop").get("mappings", []))

    def recording_status(self) -> str:
        """``NeverStarted``, ``Recording`` or ``Stopped``."""
        return str(self._call("GET", "/recordings/status")["status"])

    def snapshot(
        self,
        *,
        filters: RequestSpec | Mapping[str, Any] | None = None,
        repeats_as_scenarios: bool | None = None,
        persist: bool | None = None,
        capture_headers: Mapping[str, Mapping[str, Any]] | None = None,
        extract_body_criteria: Mapping[str, Any] | None = None,
        **record_spec: Any,
    ) -> list[dict[str, Any]]:
        """Stubs for the proxied requests in the journal (same options as :meth:`start_recording`)."""
        spec = _record_spec(filters, repeats_as_scenarios, persist, capture_headers, extract_body_criteria, record_spec)
        return list(self._call("POST", "/recordings/snapshot", spec).get("mappings", []))

    def health(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/health")
        return result


def _pattern_json(pattern: Matcher | Mapping[str, Any]) -> dict[str, Any]:
    return pattern.to_json() if isinstance(pattern, Matcher) else dict(pattern)


def _record_spec(
    filters: RequestSpec | Mapping[str, Any] | None,
    repeats_as_scenarios: bool | None,
    persist: bool | None,
    capture_headers: Mapping[str, Mapping[str, Any]] | None,
    extract_body_criteria: Mapping[str, Any] | None,
    extra: Mapping[str, Any],
) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if filters is not None:
        spec["filters"] = filters.to_json() if isinstance(filters, RequestSpec) else dict(filters)
    if repeats_as_scenarios is not None:
        spec["repeatsAsScenarios"] = repeats_as_scenarios
    if persist is not None:
        spec["persist"] = persist
    if capture_headers is not None:
        spec["captureHeaders"] = {name: dict(options) for name, options in capture_headers.items()}
    if extract_body_criteria is not None:
        spec["extractBodyCriteria"] = dict(extract_body_criteria)
    spec.update(extra)
    return spec


def _verification_message(check: _Verification) -> str:
    plural = "request" if check.count == 1 else "requests"
    lines = [
        f"expected {check.expected} request(s) matching {check.spec}, "
        f"but the stub server received {check.count} such {plural}"
    ]
    if check.matching:
        lines.append("  the matching requests:")
        lines.extend(f"    - {r}" for r in check.matching[:10])
    if check.near:
        lines.append("  closest requests received that did not match:")
        for i, (req, diffs) in enumerate(check.near, 1):
            lines.append(f"    {i}. {req}")
            for d in diffs:
                lines.append(f"         {d.get('field')}: expected {d.get('expected')}, got {d.get('actual')}")
    elif check.count == 0:
        total = check.journal_size
        lines.append(
            "  no received request comes close"
            + (f" (the journal holds {total} request(s))" if total is not None else "")
        )
    return "\n".join(lines)


def _verification_hint(check: _Verification) -> str:
    if check.near:
        return (
            "make the code under test send what the stub expects, "
            "or relax the expectation where the listed fields differ"
        )
    if check.count:
        return "the code under test called it a different number of times; check retries and loops, or adjust times="
    return "check that the code under test is configured with this stub server's URL and that the call really happens"
