"""The keys of `kind = "process"`."""

from __future__ import annotations

from typing import Annotated, ClassVar

import msgspec

from ...config import Port, ServiceSpec, SpecError

__all__ = ["ProcessSpec"]


class ProcessSpec(ServiceSpec, kw_only=True):
    command: str | list[str]
    cwd: str | None = None
    port: bool | Port = True  # true: a free port as ${self.port} and $PORT; false: none; N: that port
    replicas: Annotated[int, msgspec.Meta(ge=1, le=64)] = 1
    build: str | list[str] | None = None  # run once before start, cached by `build_inputs`
    build_inputs: list[str] = []  # globs, relative to `cwd`, whose content triggers a rebuild
    build_outputs: list[str] = []  # globs that must exist after a build (a missing one rebuilds)
    build_timeout: Annotated[float, msgspec.Meta(gt=0)] = 600.0

    interpolated: ClassVar[tuple[str, ...]] = ("command", "build", "env", "export")

    def __post_init__(self) -> None:
        command = self.command
        if not command or (isinstance(command, str) and not command.strip()):
            raise SpecError("command", "command must not be empty")
        if self.build is not None and (not self.build or any(not c.strip() for c in self._builds())):
            raise SpecError("build", "build must not be empty (remove the key to have no build)")
        if self.build is None and (self.build_inputs or self.build_outputs):
            raise SpecError("build_inputs" if self.build_inputs else "build_outputs",
                            "`build_inputs`/`build_outputs` without a `build` command")

    def _builds(self) -> list[str]:
        return [self.build] if isinstance(self.build, str) else list(self.build or [])
