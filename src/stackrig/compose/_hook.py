"""What a kind tells the compose front door: the images it runs natively, and how.

A kind that can stand in for container images exposes a :class:`ComposeImage` from a
``_compose.py`` module in its own folder::

    IMAGE = ComposeImage(
        images=("postgres", "postgis/postgis"),      # repositories, as compose files name them
        ports={5432: "port"},                        # container port -> attribute with the allocated one
        map=to_stack,                                # ComposeService -> ComposeMapping
        summary="POSTGRES_DB/USER/PASSWORD; /docker-entrypoint-initdb.d → init",
    )

``map`` gets the service as compose declared it (:class:`ComposeService`: environment already
interpolated, volumes resolved, the image's tag parsed) and returns the kind's stack-file keys
(:class:`ComposeMapping`), with a note for everything it mapped or dropped.  It raises
:class:`Unsupported` for what the kind cannot honour — located and explained by the front door.
The front door adds the keys every kind shares (``depends_on``, ``export``, ``start_timeout``),
rewrites compose addresses in ``env`` and in the keys the mapping names in ``rewrite``, and turns
the tag into a version preference (``version``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from ..errors import StackrigError

__all__ = ["ComposeImage", "ComposeMapping", "ComposeService", "ImageRef", "Key", "Note", "PortMapping",
           "Unsupported", "Volume"]

Key = tuple[str | int, ...]
Level = Literal["mapped", "dropped", "warning"]


class Unsupported(StackrigError):
    """A construct the kind cannot run natively: `key` is the compose key path under the service
    (``("command", 2)``, ``("volumes", 0)``); the front door adds the file, line and service."""

    def __init__(self, key: Key, message: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.key = key


@dataclass(frozen=True)
class Note:
    """What happened to one compose key: mapped onto a stackrig key, dropped, or a warning."""

    key: Key
    text: str
    level: Level = "mapped"


@dataclass(frozen=True)
class ImageRef:
    """``[registry/]repository[:tag][@digest]`` with the registry and ``library/`` taken off."""

    text: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @classmethod
    def parse(cls, text: str) -> ImageRef:
        rest, _, digest = text.strip().partition("@")
        slash = rest.rfind("/")
        colon = rest.rfind(":")
        tag = None
        if colon > slash:
            rest, tag = rest[:colon], rest[colon + 1:]
        parts = rest.split("/")
        if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
            parts = parts[1:]  # a registry host: docker.io, ghcr.io, public.ecr.aws, localhost:5000
        if parts[:2] == ["docker", "library"]:
            parts = parts[2:]  # public.ecr.aws/docker/library/redis
        if parts[:1] == ["library"]:
            parts = parts[1:]
        return cls(text=text, repository="/".join(parts).lower(), tag=tag or None, digest=digest or None)

    @property
    def version(self) -> str | None:
        """The tag's leading version (``13``, ``3.12``, ``6.2.6``), or None (``latest``, ``alpine``)."""
        if not self.tag:
            return None
        head = ""
        for part in self.tag.split("-")[0].split("."):
            if not part.isdigit():
                break
            head = f"{head}.{part}" if head else part
        return head or None

    @property
    def variants(self) -> tuple[str, ...]:
        """The words of the tag after its version: ``3-management-alpine`` → (management, alpine)."""
        if not self.tag:
            return ()
        words = self.tag.split("-")
        return tuple(w for w in (words[1:] if self.version else words) if w)


@dataclass(frozen=True)
class Volume:
    """One entry of `volumes`: a bind mount (`source` a host path), a named volume, tmpfs."""

    index: int
    type: str  # bind, volume, tmpfs, image, npipe, cluster
    target: str
    source: str | None = None  # bind: absolute host path; volume: its name; None: anonymous/tmpfs
    read_only: bool = False

    @property
    def path(self) -> Path | None:
        return Path(self.source) if self.type == "bind" and self.source else None


@dataclass(frozen=True)
class PortMapping:
    """One entry of `ports` (published) or `expose` (published is None)."""

    index: int
    container: int
    published: str | None = None
    protocol: str = "tcp"
    key: str = "ports"


@dataclass(frozen=True)
class ComposeService:
    """A compose service as a kind's mapping sees it."""

    name: str
    file: Path
    root: Path  # the compose file's folder: relative paths in the kind's keys are relative to it
    image: ImageRef | None
    environment: Mapping[str, str] = field(default_factory=dict)  # env_file then environment, interpolated
    command: tuple[str, ...] | None = None  # exec form (a string command split the way compose does)
    entrypoint: tuple[str, ...] | None = None
    volumes: tuple[Volume, ...] = ()
    ports: tuple[PortMapping, ...] = ()
    secrets: Mapping[str, Path] = field(default_factory=dict)  # container path -> local file
    raw: Mapping[str, Any] = field(default_factory=dict)

    def env(self, name: str) -> str | None:
        """`NAME`, else the content of the file `NAME_FILE` names (the official images' convention)."""
        if name in self.environment:
            return self.environment[name]
        target = self.environment.get(f"{name}_FILE")
        if target is None:
            return None
        local = self.local(target)
        if local is None or not local.is_file():
            return None
        return local.read_text(encoding="utf-8", errors="replace").rstrip("\r\n")

    def local(self, container_path: str) -> Path | None:
        """The host path behind a container path: secrets, then bind mounts (longest first)."""
        if container_path in self.secrets:
            return self.secrets[container_path]
        want = PurePosixPath(container_path)
        best: tuple[int, Path] | None = None
        for v in self.volumes:
            if v.path is None:
                continue
            target = PurePosixPath(v.target)
            if want == target or target in want.parents:
                depth = len(target.parts)
                if best is None or depth > best[0]:
                    best = (depth, v.path.joinpath(*want.parts[len(target.parts):]))
        return best[1] if best else None

    def relative(self, path: Path) -> str:
        """`path` as the stack file writes it: relative to the compose file's folder when inside it."""
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix() or "."
        except ValueError:
            return str(path)

    def mounted_under(self, folder: str) -> list[Volume]:
        """The bind mounts at `folder` or below it."""
        base = PurePosixPath(folder)
        return [v for v in self.volumes if v.path is not None
                and (PurePosixPath(v.target) == base or base in PurePosixPath(v.target).parents)]


@dataclass
class ComposeMapping:
    """A kind's keys for one compose service, and what became of each compose key."""

    table: dict[str, Any] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)
    version: str | None = None  # the version the tag asks for: a preference (the nearest available runs)
    ports: dict[int, str] = field(default_factory=dict)  # container ports beyond the image's (toxiproxy)
    rewrite: tuple[str, ...] = ()  # keys of `table` whose strings hold compose addresses (`redis:6379`)
    used_env: set[str] = field(default_factory=set)  # variables the mapping consumed; others are dropped
    used_volumes: set[int] = field(default_factory=set)  # `volumes` entries it consumed
    used_command: bool = False  # it read `command`; else a command is reported dropped

    def mapped(self, key: Key, text: str) -> None:
        self.notes.append(Note(key, text, "mapped"))

    def dropped(self, key: Key, text: str) -> None:
        self.notes.append(Note(key, text, "dropped"))

    def warn(self, key: Key, text: str) -> None:
        self.notes.append(Note(key, text, "warning"))

    def take(self, svc: ComposeService, variables: Iterable[str]) -> dict[str, str]:
        """The variables of `variables` the service sets (or sets through `NAME_FILE`), marked used."""
        found: dict[str, str] = {}
        for name in variables:
            value = svc.env(name)
            if value is not None:
                found[name] = value
                self.used_env.update({name, f"{name}_FILE"} & set(svc.environment))
        return found


@dataclass(frozen=True)
class ComposeImage:
    """The container images a kind runs natively (see the module docs)."""

    images: tuple[str, ...]
    ports: Mapping[int, str]
    map: Callable[[ComposeService], ComposeMapping]
    summary: str = ""  # the row of docs/compose.md's mapping table
    versioned: bool = True  # the tag is a version of what the kind runs (LocalStack's is not moto's)

    def __post_init__(self) -> None:
        if not self.images:
            raise ValueError("a ComposeImage names at least one image repository")
