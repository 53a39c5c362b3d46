"""`Stack`: the library entry point — load a stack file, bring it up (or part of it), get a `Rig`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..config import StackFile, find_stack_file
from ..errors import ConfigError
from ..run import RunRecord, ServiceEvent, ServiceInfo, StackRunner
from ..services import Slice, load_stack
from ._rig import Rig
from ._serve import serve_resets

__all__ = ["Stack"]


def _external_info(name: str, kind: str, url: str) -> ServiceInfo:
    parts = urlsplit(url)
    attrs = {"name": name, "url": url, "direct_url": url, "host": parts.hostname or "",
             "port": str(parts.port or ""), "user": unquote(parts.username or ""),
             "password": unquote(parts.password or ""), "database": parts.path.lstrip("/").split("/")[0]}
    return ServiceInfo(name=name, kind=kind, url=url, host=parts.hostname or "", port=parts.port,
                       ports=[parts.port] if parts.port else [], attributes=attrs, source="external")


class Stack:
    """A declared stack.  ``with Stack.load() as rig: ...`` runs it for the block.

    ``stack.up(only={"db"})`` runs a part of it (and what that part depends on);
    ``stack.up(external={"db": "postgresql://..."})`` uses a server someone else runs instead
    of starting one (its attributes — host, port, user, password, database — come from the URL).
    """

    def __init__(self, stack: StackFile) -> None:
        self.file = stack
        self._runner: StackRunner | None = None
        self._rig: Rig | None = None

    @classmethod
    def load(cls, path: Path | str | None = None) -> Stack:
        """From `path`, or the stack file found in the current folder or its parents."""
        if path is None:
            found = find_stack_file()
            if found is None:
                raise ConfigError("no stackrig.toml (or pyproject.toml with [tool.stackrig], or compose file) in "
                                  "this folder or its parents", hint="run `stackrig init`, or pass the path")
            path = found
        return cls(load_stack(path))

    def up(self, on_event: Callable[[ServiceEvent], None] | None = None, *, only: Iterable[str] | None = None,
           external: Mapping[str, str] | None = None, faults: bool = True) -> Rig:
        """Start the stack (or `only` those services and their dependencies); return its `Rig`.

        `external`: service name -> URL of a server already running; `faults`: False starts no fault
        proxy even where the stack file asks for one."""
        outside: dict[str, tuple[ServiceInfo, Slice]] = {}
        for name, url in (external or {}).items():
            spec = self.file.services.get(name)
            if spec is None:
                raise ConfigError(f"external service '{name}' is not declared in the stack file",
                                  file=self.file.path, hint=f"services: {', '.join(self.file.services)}")
            outside[name] = (_external_info(name, spec.kind, url), Slice(url))
        self._runner = StackRunner(self.file, on_event=on_event, only=set(only) if only is not None else None,
                                   external=outside, faults=faults)
        serve_resets(self._runner)
        record = self._runner.up()
        self._rig = Rig(record)
        return self._rig

    @property
    def record(self) -> RunRecord | None:
        return self._runner.record if self._runner else None

    @property
    def run_id(self) -> str | None:
        return self._runner.run_id if self._runner else None

    @property
    def warnings(self) -> list[str]:
        """What went wrong in the background of the run without failing it (also in its stackrig.log)."""
        return list(self._runner.ctx.warnings) if self._runner and self._runner.ctx else []

    def down(self) -> None:
        if self._rig is not None:
            self._rig.close()
        if self._runner is not None:
            self._runner.down()

    def __enter__(self) -> Rig:
        return self.up()

    def __exit__(self, *exc: object) -> None:
        self.down()
