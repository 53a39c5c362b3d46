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

    interpolated: ClassVar[tuple[str, ...]] = ("command", "env", "export")

    def __post_init__(self) -> None:
        command = self.command
        if not command or (isinstance(command, str) and not command.strip()):
            raise SpecError("command", "command must not be empty")
