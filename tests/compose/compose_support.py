"""Helpers and fixtures of the compose front door's tests (importable by name as compose_support)."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from stackrig import Stack
from stackrig.errors import ConfigError

PROJECTS = Path(__file__).parent / "projects"

needs_rabbitmq = pytest.mark.skipif(not list(Path("/usr/lib/rabbitmq/lib").glob("rabbitmq_server-*"))
                                    and shutil.which("rabbitmq-server") is None,
                                    reason="RabbitMQ is not installed")


@pytest.fixture
def project(tmp_path: Path) -> Callable[[str], Path]:
    """`project("orders")`: a copy of tests/compose/projects/orders (runs write .stackrig/ into it)."""

    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(PROJECTS / name, target)
        return target

    return copy


@pytest.fixture
def compose(tmp_path: Path) -> Callable[..., Path]:
    """`compose(text, files={"Dockerfile": ...})`: a compose file (dedented) and its files, in a fresh folder."""

    def write(text: str, files: dict[str, str] | None = None, name: str = "docker-compose.test.yml") -> Path:
        for rel, content in (files or {}).items():
            p = tmp_path / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(textwrap.dedent(content))
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return path

    return write


@pytest.fixture
def stacks() -> Iterator[list[Stack]]:
    """Stacks to stop at the end of the test, whatever happens."""
    started: list[Stack] = []
    yield started
    for s in reversed(started):
        s.down()


@pytest.fixture
def toxiproxy_kind() -> Iterator[None]:
    """The toxiproxy kind, registered in this process (its entry point is not in the packaging yet)."""
    from stackrig.kinds.toxiproxy import KIND
    from stackrig.services import registry, reset_registry

    if "toxiproxy" in registry():
        yield
        return
    registry().add(KIND)
    yield
    reset_registry()


def error_of(path: Path, **kwargs: object) -> ConfigError:
    """The ConfigError loading `path` raises."""
    from stackrig.compose import load_compose

    with pytest.raises(ConfigError) as info:
        load_compose(path, **kwargs)  # type: ignore[arg-type]
    return info.value


def line_of(path: Path, needle: str) -> int:
    """The 1-based line of the first line of `path` containing `needle`."""
    for n, line in enumerate(path.read_text().splitlines(), start=1):
        if needle in line:
            return n
    raise AssertionError(f"{needle!r} not in {path}")
