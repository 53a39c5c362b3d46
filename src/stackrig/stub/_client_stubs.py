"""What ``StubClient.on(spec)`` builds: the response JSON of ``.reply(...)``, the :class:`StubBuilder`
that creates the stub, and the :class:`Stub` handle (``.then(...)`` sequences, ``.remove()``).
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from ._builders import RequestSpec

if TYPE_CHECKING:
    from ._client import StubClient

__all__ = ["Stub", "StubBuilder", "response_json"]

_SEQUENCE_PREFIX = "stackrig-sequence-"


def response_json(
    status: int,
    *,
    json_body: Any = None,
    body: str | bytes | None = None,
    headers: dict[str, str | list[str]] | None = None,
    delay_ms: int | None = None,
    template: bool = False,
    status_message: str | None = None,
    body_file: str | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {"status": status}
    if status_message is not None:
        out["statusMessage"] = status_message
    given = [n for n, v in (("json", json_body), ("body", body), ("body_file", body_file)) if v is not None]
    if len(given) > 1:
        raise TypeError(f"give only one of json=, body=, body_file= (got {', '.join(given)})")
    if json_body is not None:
        out["jsonBody"] = json_body
        headers = {"Content-Type": "application/json", **(headers or {})}
    elif isinstance(body, bytes):
        out["base64Body"] = base64.b64encode(body).decode("ascii")
    elif body is not None:
        out["body"] = body
    elif body_file is not None:
        out["bodyFileName"] = body_file
    if headers:
        out["headers"] = dict(headers)
    if delay_ms:
        out["fixedDelayMilliseconds"] = int(delay_ms)
    if template:
        out["transformers"] = ["response-template"]
    return out


class Stub:
    """A stub created on the server; ``.then(...)`` adds the next response of a sequence."""

    def __init__(self, client: StubClient, mapping: dict[str, Any], step: int = 1) -> None:
        self._client = client
        self.mapping = mapping
        self.step = step

    @property
    def id(self) -> str:
        return str(self.mapping["id"])

    def then(self, status: int = 200, **response: Any) -> Stub:
        """The response after this one: the server answers them in order and then repeats the last.

        Takes the same arguments as :meth:`StubBuilder.reply` (``json=``, ``body=``, ``headers=``,
        ``delay_ms=`` ...), or ``fault="..."`` for a fault.
        """
        fault = response.pop("fault", None)
        scenario = self.mapping.get("scenarioName") or f"{_SEQUENCE_PREFIX}{self.id}"
        required = self.mapping.get("requiredScenarioState") or "Started"
        next_state = f"step-{self.step + 1}"
        updated = dict(self.mapping, scenarioName=scenario, requiredScenarioState=required, newScenarioState=next_state)
        updated.pop("uuid", None)
        self.mapping = self._client._call("PUT", f"/mappings/{self.id}", updated)
        nxt = {
            k: v
            for k, v in self.mapping.items()
            if k not in ("id", "uuid", "newScenarioState", "response", "insertionIndex")
        }
        nxt["requiredScenarioState"] = next_state
        nxt["response"] = (
            {"fault": fault} if fault else response_json(status, json_body=response.pop("json", None), **response)
        )
        created = self._client._call("POST", "/mappings", nxt)
        return Stub(self._client, created, self.step + 1)

    def remove(self) -> None:
        self._client._call("DELETE", f"/mappings/{self.id}")

    def __repr__(self) -> str:
        return f"<Stub {self.id} {self.mapping.get('request')}>"


class StubBuilder:
    """``client.on(spec)`` — say what the matching requests get back."""

    def __init__(self, client: StubClient, spec: RequestSpec, priority: int | None, name: str | None) -> None:
        self._client = client
        self._spec = spec
        self._priority = priority
        self._name = name

    def _create(self, response: dict[str, Any]) -> Stub:
        mapping: dict[str, Any] = {"request": self._spec.to_json(), "response": response}
        if self._priority is not None:
            mapping["priority"] = self._priority
        if self._name is not None:
            mapping["name"] = self._name
        return Stub(self._client, self._client._call("POST", "/mappings", mapping))

    def reply(
        self,
        status: int = 200,
        *,
        json: Any = None,
        body: str | bytes | None = None,
        headers: dict[str, str | list[str]] | None = None,
        delay_ms: int | None = None,
        template: bool = False,
        status_message: str | None = None,
        body_file: str | None = None,
    ) -> Stub:
        """Answer with ``status`` and a body (``json=`` sets Content-Type: application/json).

        ``template=True`` turns on WireMock response templating (``{{request.path.[0]}}`` ...).
        """
        return self._create(
            response_json(
                status,
                json_body=json,
                body=body,
                headers=headers,
                delay_ms=delay_ms,
                template=template,
                status_message=status_message,
                body_file=body_file,
            )
        )

    def fault(self, kind: str, *, delay_ms: int | None = None) -> Stub:
        """Break the connection: CONNECTION_RESET_BY_PEER, EMPTY_RESPONSE, MALFORMED_RESPONSE_CHUNK
        or RANDOM_DATA_THEN_CLOSE."""
        response: dict[str, Any] = {"fault": kind}
        if delay_ms:
            response["fixedDelayMilliseconds"] = int(delay_ms)
        return self._create(response)

    def proxy_to(self, base_url: str) -> Stub:
        """Forward matching requests to a real server."""
        return self._create({"proxyBaseUrl": base_url})
