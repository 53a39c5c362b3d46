"""The keys of `kind = "process"`."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

import msgspec

from ...config import Port, ServiceSpec, Spec, SpecError

__all__ = ["ProcessSpec", "CoverageSpec"]


class CoverageSpec(Spec, kw_only=True):
    """`coverage = { ... }`: how the service's code is measured."""

    language: Literal["python", "node"] | None = None  # default: from the command (node, npm, ${node}: node)
    source: list[str] = []  # Python: packages or folders to measure (default: the service's folder)
    omit: list[str] = []  # Python: globs to leave out


class ProcessSpec(ServiceSpec, kw_only=True):
    command: str | list[str]
    cwd: str | None = None
    port: bool | Port = True  # true: a free port as ${self.port} and $PORT; false: none; N: that port
    replicas: Annotated[int, msgspec.Meta(ge=1, le=64)] = 1
    build: str | list[str] | None = None  # run once before start, cached by `build_inputs`
    build_inputs: list[str] = []  # globs, relative to `cwd`, whose content triggers a rebuild
    build_outputs: list[str] = []  # globs that must exist after a build (a missing one rebuilds)
    build_timeout: Annotated[float, msgspec.Meta(gt=0)] = 600.0
    coverage: bool | CoverageSpec = False  # measure the service's code while the tests run
    job: bool = False  # a one-off job (a migration): ready once it exited 0; no port

    interpolated: ClassVar[tuple[str, ...]] = ("command", "build", "env", "export")

    def __post_init__(self) -> None:
        command = self.command
        if not command or (isinstance(command, str) and not command.strip()):
            raise SpecError("command", "command must not be empty")
        if self.build is not None and (not self.build or any(not c.strip() for c in self._builds())):
            raise SpecError("build", "build must not be empty (remove the key to have no build)")
        if self.job and (self.replicas > 1 or self.port not in (True, False)):
            raise SpecError("job", "a job runs once, without a port: remove `replicas` and `port`")
        if self.build is None and (self.build_inputs or self.build_outputs):
            raise SpecError("build_inputs" if self.build_inputs else "build_outputs",
                            "`build_inputs`/`build_outputs` without a `build` command")

    def measures_coverage(self) -> bool:
        return self.coverage is not False

    def _builds(self) -> list[str]:
        return [self.build] if isinstance(self.build, str) else list(self.build or [])
