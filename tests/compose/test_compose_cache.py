"""A warm load of an unchanged compose file reads the mapped stack from the cache — and any change to
what the mapping read (the file, its inputs, mounted folders, variables) maps it again."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from stackrig.compose import load_compose, load_stack

Compose = Callable[..., Path]

FILE = """
services:
  db:
    image: postgres:16
    environment:
      POSTGRES_PASSWORD: ${DB_PASSWORD:-secret}
    volumes:
      - ./init:/docker-entrypoint-initdb.d
  api:
    build: .
    environment:
      DATABASE_URL: postgresql://postgres:${DB_PASSWORD:-secret}@db:5432/postgres
      DEBUG:
"""


@pytest.fixture
def cached(compose: Compose, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STACKRIG_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("DB_PASSWORD", raising=False)
    monkeypatch.delenv("DEBUG", raising=False)
    return compose(FILE, files={"Dockerfile": "FROM python:3.12\nCMD [\"python\", \"-m\", \"http.server\", \"80\"]\n",
                                "init/01.sql": "SELECT 1;"})


def _mapped(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    import stackrig.compose._parse as parse

    calls: list[int] = []
    original = parse.parse_compose

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(parse, "parse_compose", counting)
    return calls


def test_a_warm_load_is_the_same_stack_without_mapping(cached: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = load_compose(cached).stack
    calls = _mapped(monkeypatch)
    again = load_stack(cached)
    assert calls == [] and again.services == first.services and again.digest == first.digest
    assert again.warnings == first.warnings and again.toml == first.toml  # type: ignore[attr-defined]
    (cached.parent / ".stackrig" / "runs").mkdir(parents=True)  # what a run leaves in the project
    assert load_stack(cached).digest == first.digest and calls == []


@pytest.mark.parametrize("change", ["compose", "dockerfile", "folder", "variable", "passthrough", "dotenv"])
def test_what_the_mapping_read_invalidates_it(cached: Path, monkeypatch: pytest.MonkeyPatch, change: str) -> None:
    load_compose(cached)
    root = cached.parent
    if change == "compose":
        cached.write_text(cached.read_text() + "  cache:\n    image: redis:7\n")
    elif change == "dockerfile":
        (root / "Dockerfile").write_text("FROM python:3.12\nCMD [\"python\", \"-m\", \"http.server\", \"81\"]\n")
    elif change == "folder":
        (root / "init" / "02.sql").write_text("SELECT 2;")
    elif change == "variable":
        monkeypatch.setenv("DB_PASSWORD", "other")
    elif change == "passthrough":
        monkeypatch.setenv("DEBUG", "1")
    else:
        (root / ".env").write_text("DB_PASSWORD=from-dotenv\n")
    calls = _mapped(monkeypatch)
    stack = load_stack(cached)
    assert calls == [1]
    if change == "folder":
        assert stack.services["db"].init == ["init/01.sql", "init/02.sql"]  # type: ignore[attr-defined]
    if change == "dotenv":
        assert stack.services["db"].password == "from-dotenv"  # type: ignore[attr-defined]
    if change == "passthrough":
        assert stack.services["api"].env["DEBUG"] == "1"
