"""All proxies of one server, and the operations of Toxiproxy's API on them."""

from __future__ import annotations

from typing import Any

from ._errors import ApiProblem
from ._model import ProxySpec, parse_address, parse_proxy_fields, parse_toxic, update_toxic
from ._proxy import Proxy

__all__ = ["ProxyCollection"]


class ProxyCollection:
    def __init__(self) -> None:
        self.proxies: dict[str, Proxy] = {}

    def get(self, name: str) -> Proxy:
        try:
            return self.proxies[name]
        except KeyError:
            raise ApiProblem("proxy not found", 404) from None

    def index(self) -> dict[str, Any]:
        return {name: proxy.to_json() for name, proxy in self.proxies.items()}

    async def create(self, body: object) -> dict[str, Any]:
        spec = parse_proxy_fields(body)
        if spec.name in self.proxies:
            raise ApiProblem("proxy already exists", 409)
        proxy = await self._start(spec)
        self.proxies[spec.name] = proxy
        return proxy.to_json()

    async def _start(self, spec: ProxySpec) -> Proxy:
        proxy = Proxy(spec)
        if spec.enabled:
            await proxy.start()
        return proxy

    async def populate(self, body: object) -> list[dict[str, Any]]:
        """Create or replace a list of proxies; validates all of them before changing anything."""
        if not isinstance(body, list):
            raise ApiProblem(f"bad request body: expected a JSON array of proxies, got {type(body).__name__}",
                             400)
        specs: list[ProxySpec] = []
        seen: set[str] = set()
        for i, item in enumerate(body):
            spec = parse_proxy_fields(item, where=f" at proxy {i + 1}")
            if spec.name in seen:
                raise ApiProblem(f"duplicate proxy name {spec.name!r}", 400)
            seen.add(spec.name)
            specs.append(spec)
        out = []
        for spec in specs:
            existing = self.proxies.get(spec.name)
            if existing is not None and existing.upstream == spec.upstream and (
                    existing.listen == spec.listen or _port(spec.listen) == 0):
                await existing.update(existing.listen, existing.upstream, spec.enabled)
                out.append(existing.to_json())
                continue
            if existing is not None:
                await existing.stop()
                del self.proxies[spec.name]
            proxy = await self._start(spec)
            self.proxies[spec.name] = proxy
            out.append(proxy.to_json())
        return out

    async def update(self, name: str, body: object) -> dict[str, Any]:
        proxy = self.get(name)
        if not isinstance(body, dict):
            raise ApiProblem(f"bad request body: expected a JSON object, got {type(body).__name__}", 400)
        listen = body.get("listen") or proxy.listen
        upstream = body.get("upstream") or proxy.upstream
        enabled = body.get("enabled", proxy.enabled)
        if not isinstance(enabled, bool):
            raise ApiProblem(f"bad request body: enabled must be true or false, got {enabled!r}", 400)
        parse_address(listen, "listen")
        parse_address(upstream, "upstream")
        await proxy.update(str(listen), str(upstream), enabled)
        return proxy.to_json()

    async def delete(self, name: str) -> None:
        proxy = self.get(name)
        await proxy.stop()
        del self.proxies[name]

    async def reset(self) -> None:
        for proxy in self.proxies.values():
            await proxy.start()
            proxy.reset_toxics()

    async def close(self) -> None:
        for proxy in self.proxies.values():
            await proxy.stop()

    # -- toxics ------------------------------------------------------------------------------
    def toxics(self, name: str) -> list[dict[str, Any]]:
        return [t.to_json() for t in self.get(name).toxic_list()]

    def add_toxic(self, name: str, body: object) -> dict[str, Any]:
        proxy = self.get(name)
        spec = parse_toxic(body)
        proxy.add_toxic(spec)
        return spec.to_json()

    def toxic(self, name: str, toxic: str) -> dict[str, Any]:
        proxy = self.get(name)
        if toxic not in proxy.toxics:
            raise ApiProblem("toxic not found", 404)
        return proxy.toxics[toxic].to_json()

    def update_toxic(self, name: str, toxic: str, body: object) -> dict[str, Any]:
        proxy = self.get(name)
        if toxic not in proxy.toxics:
            raise ApiProblem("toxic not found", 404)
        spec = update_toxic(proxy.toxics[toxic], body)
        proxy.replace_toxic(spec)
        return spec.to_json()

    def remove_toxic(self, name: str, toxic: str) -> None:
        self.get(name).remove_toxic(toxic)


def _port(listen: str) -> int:
    try:
        return parse_address(listen, "listen")[1]
    except ApiProblem:
        return -1
