"""Python client of the fault proxy (works against a real Toxiproxy too)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any

import httpx

from ._errors import FaultApiError, FaultServerUnreachable, ProxyNotFound

__all__ = ["FaultClient", "Fault", "Toxic", "describe_proxies"]


class FaultClient:
    """Talks to the control API at ``api_url`` (e.g. ``http://127.0.0.1:8474``)."""

    def __init__(self, api_url: str, *, timeout: float = 10.0) -> None:
        self.api_url = api_url.rstrip("/")
        self._http = httpx.Client(base_url=self.api_url, timeout=timeout)

    # -- plumbing ----------------------------------------------------------------------------
    def request(self, method: str, path: str, body: object = None) -> Any:
        url = self.api_url + path
        try:
            response = self._http.request(method, path, json=body) if body is not None \
                else self._http.request(method, path)
        except httpx.TransportError as exc:
            raise FaultServerUnreachable(
                f"fault proxy API: {method} {url} failed, nothing answered ({type(exc).__name__}: {exc})",
                hint="start the proxy with `python -m stackrig.faults --api-port PORT` and pass its "
                     "http://127.0.0.1:PORT to FaultClient") from None
        if response.status_code >= 400:
            raise self._error(method, url, path, response)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def _error(self, method: str, url: str, path: str, response: httpx.Response) -> FaultApiError:
        try:
            server_error = str(response.json().get("error", response.text))
        except ValueError:
            server_error = response.text.strip()
        status = response.status_code
        text = f"fault proxy API: {method} {url} answered {status} {server_error!r}"
        if status == 404:
            parts = path.strip("/").split("/")
            if server_error == "toxic not found" and len(parts) >= 4:
                known = self._known_toxics(parts[1])
                return ProxyNotFound(
                    f"{text}; expected an active toxic named {parts[3]!r} on proxy {parts[1]!r}, "
                    f"found {known}", status=status, method=method, url=url, server_error=server_error,
                    hint="it may have been removed already (reset/clear); list them with "
                         "FaultClient.proxy(name).toxics()")
            if len(parts) >= 2 and parts[0] == "proxies":
                known = sorted(self._known_proxies())
                return ProxyNotFound(
                    f"{text}; expected a proxy named {parts[1]!r}, found {known or 'no proxies'}",
                    status=status, method=method, url=url, server_error=server_error,
                    hint="use one of the names above, or create it (FaultClient.create / the --config file)")
        hints = {400: "check the toxic's attributes and stream ('upstream' or 'downstream')",
                 409: "choose another name, or remove the existing one first"}
        expected = {400: "expected a body the API accepts", 409: "expected a name not in use"}
        return FaultApiError(f"{text}; {expected.get(status, 'expected a 2xx answer')}", status=status,
                             method=method, url=url, server_error=server_error,
                             hint=hints.get(status, "see the fault proxy's log"))

    def _known_proxies(self) -> list[str]:
        try:
            return list(self._http.get("/proxies").json())
        except (httpx.HTTPError, ValueError):
            return []

    def _known_toxics(self, proxy: str) -> list[str]:
        try:
            return [t["name"] for t in self._http.get(f"/proxies/{proxy}/toxics").json()]
        except (httpx.HTTPError, ValueError, TypeError, KeyError):
            return []

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> FaultClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- API ---------------------------------------------------------------------------------
    def version(self) -> str:
        return str(self.request("GET", "/version")["version"])

    def proxies(self) -> dict[str, dict[str, Any]]:
        result: dict[str, dict[str, Any]] = self.request("GET", "/proxies")
        return result

    def proxy(self, name: str) -> Fault:
        """A handle on the proxy ``name`` (not checked until used)."""
        return Fault(self, name)

    def create(self, name: str, upstream: str, listen: str = "127.0.0.1:0", *, enabled: bool = True) -> Fault:
        self.request("POST", "/proxies", {"name": name, "upstream": upstream, "listen": listen,
                                          "enabled": enabled})
        return Fault(self, name)

    def populate(self, proxies: Iterable[Mapping[str, object]]) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.request("POST", "/populate", list(map(dict, proxies)))["proxies"]
        return result

    def reset(self) -> None:
        """Enable every proxy and remove every toxic."""
        self.request("POST", "/reset")

    def describe(self) -> str:
        """Every proxy with its state and active toxics, as text for a failing test's report."""
        return describe_proxies(self.proxies())


class Fault:
    """One proxy: add toxics, take it down, bring it up."""

    def __init__(self, client: FaultClient, name: str) -> None:
        self.client = client
        self.name = name

    def __repr__(self) -> str:
        return f"Fault({self.name!r} at {self.client.api_url})"

    def info(self) -> dict[str, Any]:
        result: dict[str, Any] = self.client.request("GET", f"/proxies/{self.name}")
        return result

    @property
    def listen(self) -> str:
        return str(self.info()["listen"])

    # -- toxics ------------------------------------------------------------------------------
    def add(self, type: str, attributes: Mapping[str, int], *, stream: str = "downstream",
            toxicity: float = 1.0, name: str | None = None) -> Toxic:
        body = {"type": type, "stream": stream, "toxicity": toxicity, "attributes": dict(attributes),
                "name": name or f"{type}_{stream}"}
        data = self.client.request("POST", f"/proxies/{self.name}/toxics", body)
        return Toxic(self, data)

    def latency(self, ms: int, jitter: int = 0, *, stream: str = "downstream", toxicity: float = 1.0,
                name: str | None = None) -> Toxic:
        """Delay every chunk by ``ms`` ± ``jitter`` milliseconds."""
        return self.add("latency", {"latency": ms, "jitter": jitter}, stream=stream, toxicity=toxicity,
                        name=name)

    def bandwidth(self, kbps: int, *, stream: str = "downstream", toxicity: float = 1.0,
                  name: str | None = None) -> Toxic:
        """Limit the rate to ``kbps`` kilobytes (1000 bytes) per second."""
        return self.add("bandwidth", {"rate": kbps}, stream=stream, toxicity=toxicity, name=name)

    def slow_close(self, ms: int, *, stream: str = "downstream", toxicity: float = 1.0,
                   name: str | None = None) -> Toxic:
        """Delay passing on a close by ``ms`` milliseconds."""
        return self.add("slow_close", {"delay": ms}, stream=stream, toxicity=toxicity, name=name)

    def timeout(self, ms: int = 0, *, stream: str = "downstream", toxicity: float = 1.0,
                name: str | None = None) -> Toxic:
        """Stop all data; close the connection after ``ms`` (0: hold it open forever)."""
        return self.add("timeout", {"timeout": ms}, stream=stream, toxicity=toxicity, name=name)

    def reset_peer(self, timeout_ms: int = 0, *, stream: str = "downstream", toxicity: float = 1.0,
                   name: str | None = None) -> Toxic:
        """Reset the connection (TCP RST) ``timeout_ms`` after data arrives."""
        return self.add("reset_peer", {"timeout": timeout_ms}, stream=stream, toxicity=toxicity, name=name)

    def slice(self, average_size: int, size_variation: int = 0, delay_us: int = 0, *,
              stream: str = "downstream", toxicity: float = 1.0, name: str | None = None) -> Toxic:
        """Cut data into pieces of ``average_size`` ± ``size_variation`` bytes, ``delay_us`` apart."""
        return self.add("slicer", {"average_size": average_size, "size_variation": size_variation,
                                   "delay": delay_us}, stream=stream, toxicity=toxicity, name=name)

    def limit_data(self, bytes: int, *, stream: str = "downstream", toxicity: float = 1.0,
                   name: str | None = None) -> Toxic:
        """Close the connection once ``bytes`` bytes have passed."""
        return self.add("limit_data", {"bytes": bytes}, stream=stream, toxicity=toxicity, name=name)

    def toxics(self) -> list[Toxic]:
        return [Toxic(self, data) for data in self.client.request("GET", f"/proxies/{self.name}/toxics")]

    def clear(self) -> None:
        """Remove every toxic of this proxy."""
        for toxic in self.toxics():
            toxic.remove(missing_ok=True)

    # -- up / down ---------------------------------------------------------------------------
    def down(self) -> _Down:
        """Disable the proxy: live connections are closed, new ones refused.  A context manager."""
        self.client.request("POST", f"/proxies/{self.name}", {"enabled": False})
        return _Down(self)

    def up(self) -> None:
        self.client.request("POST", f"/proxies/{self.name}", {"enabled": True})

    def describe(self) -> str:
        return describe_proxies({self.name: self.info()})


class Toxic:
    """An active toxic; as a context manager it is removed on exit."""

    def __init__(self, fault: Fault, data: Mapping[str, Any]) -> None:
        self.fault = fault
        self.name: str = data["name"]
        self.type: str = data["type"]
        self.stream: str = data["stream"]
        self.toxicity: float = data["toxicity"]
        self.attributes: dict[str, int] = dict(data.get("attributes") or {})

    def __repr__(self) -> str:
        return f"Toxic({self.fault.name}/{self.name}: {_toxic_text(self.__dict__)})"

    def update(self, *, toxicity: float | None = None, **attributes: int) -> None:
        body: dict[str, object] = {"attributes": attributes}
        if toxicity is not None:
            body["toxicity"] = toxicity
        data = self.fault.client.request("POST", f"/proxies/{self.fault.name}/toxics/{self.name}", body)
        self.toxicity, self.attributes = data["toxicity"], dict(data["attributes"])

    def remove(self, *, missing_ok: bool = False) -> None:
        try:
            self.fault.client.request("DELETE", f"/proxies/{self.fault.name}/toxics/{self.name}")
        except ProxyNotFound:
            if not missing_ok:
                raise

    def __enter__(self) -> Toxic:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.remove(missing_ok=True)


class _Down:
    def __init__(self, fault: Fault) -> None:
        self.fault = fault

    def __enter__(self) -> Fault:
        return self.fault

    def __exit__(self, *exc: object) -> None:
        self.fault.up()


_UNITS = {"latency": "ms", "jitter": "ms", "rate": "KB/s", "delay": "ms", "timeout": "ms", "bytes": "bytes",
          "average_size": "bytes", "size_variation": "bytes"}


def _toxic_text(toxic: Mapping[str, Any]) -> str:
    attrs = toxic.get("attributes") or {}
    unit = dict(_UNITS)
    if toxic.get("type") == "slicer":
        unit["delay"] = "µs"
    shown = ", ".join(f"{k}={v} {unit.get(k, '')}".rstrip() for k, v in attrs.items())
    toxicity = toxic.get("toxicity", 1.0)
    chance = "" if toxicity == 1 else f", toxicity {toxicity:g}"
    return f"{toxic.get('type')} on {toxic.get('stream')} ({shown}{chance})"


def describe_proxies(proxies: Mapping[str, Mapping[str, Any]]) -> str:
    """Text naming each proxy, whether it is up, and its active toxics (``GET /proxies`` shape)."""
    if not proxies:
        return "fault proxy: no proxies"
    lines = []
    for name, proxy in proxies.items():
        state = "up" if proxy.get("enabled", True) else "DOWN (disabled: connections refused)"
        lines.append(f"proxy '{name}' {proxy.get('listen')} -> {proxy.get('upstream')}: {state}")
        toxics = proxy.get("toxics") or []
        if not toxics:
            lines.append("  no toxics")
        for toxic in toxics:
            lines.append(f"  toxic '{toxic.get('name')}': {_toxic_text(toxic)}")
    return "\n".join(lines)
