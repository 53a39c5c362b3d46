"""The HTTP service a verb aims at (`stackrig load`, `stackrig scan`): a service of the stack that
`stackrig up -d` runs for this project, or of a stack brought up for the verb and down after it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..errors import ServiceNotFound, StackrigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..run import RunRecord, StackRunner

__all__ = ["HttpTarget"]


@dataclass(frozen=True)
class HttpTarget:
    """How one verb finds its target and words what goes wrong."""

    purpose: str  # "this run", "this scan": in "the stack brought up for ..."
    not_found_hint: str
    no_http: Callable[[str, str], StackrigError]  # (service, its URL or "none") -> the verb's argument error

    def not_found(self, service: str, names: list[str], where: str) -> ServiceNotFound:
        import difflib

        close = difflib.get_close_matches(service, names, n=1)
        maybe = f" (did you mean '{close[0]}'?)" if close else ""
        return ServiceNotFound(f"no service named '{service}' in {where}{maybe}; services: "
                               f"{', '.join(names) or 'none'}", service=service, available=names,
                               hint=self.not_found_hint)

    def url_of(self, record: RunRecord, service: str, where: str) -> str:
        info = record.service(service)
        if info is None:
            raise self.not_found(service, [s.name for s in record.services], where)
        if not info.url.startswith(("http://", "https://")):
            raise self.no_http(service, info.url or "none")
        return info.url

    def resolve(self, record: RunRecord | None, file: str | None, service: str,
                ) -> tuple[str, StackRunner | None, str]:
        """(URL, the runner when a stack was brought up for the verb, a description of the target)."""
        if record is not None:
            where = f"the running stack ({record.run_id})"
            return self.url_of(record, service, where), None, f"service '{service}' of {where}"
        from ._common import load
        from ._progress import start

        stack = load(file)
        if service not in stack.services:
            raise self.not_found(service, list(stack.services), f"the stack file {stack.path}")
        runner, started = start(stack)
        try:
            url = self.url_of(started, service, "the stack")
        except BaseException:
            runner.down()
            raise
        return url, runner, f"service '{service}' of the stack brought up for {self.purpose}"
