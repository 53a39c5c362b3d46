"""Load WireMock's root-dir layout: ``mappings/**/*.json`` (one mapping or ``{"mappings": [...]}``
per file) and ``__files/`` for ``bodyFileName``."""

from __future__ import annotations

import json
from pathlib import Path

from ._errors import MappingError
from ._mapping import StubMapping

__all__ = ["FILES_DIR", "MAPPINGS_DIR", "load_mappings", "read_body_file"]

MAPPINGS_DIR = "mappings"
FILES_DIR = "__files"


def _display(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def load_mappings(root: Path) -> list[StubMapping]:
    """Every mapping under ``root/mappings`` in file-name order; the first mistake raises MappingError."""
    folder = root / MAPPINGS_DIR
    if not folder.is_dir():
        return []
    stubs: list[StubMapping] = []
    seen: dict[str, str] = {}
    for path in sorted(folder.rglob("*.json")):
        where = _display(path, root)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            raise MappingError("file is not UTF-8 text", json_path="$", file=where) from None
        except json.JSONDecodeError as exc:
            raise MappingError(
                f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
                json_path="$",
                file=where,
                hint="fix the JSON syntax (a trailing comma or a missing quote is the usual cause)",
            ) from None
        items = data["mappings"] if isinstance(data, dict) and isinstance(data.get("mappings"), list) else [data]
        for i, item in enumerate(items):
            try:
                stub = StubMapping(item, source=path)
            except MappingError as exc:
                located = exc.located(where)
                if len(items) > 1 or item is not data:
                    located.json_path = f"$.mappings[{i}]" + exc.json_path[1:]
                raise located from None
            if stub.id in seen:
                raise MappingError(
                    f"id {stub.id} is already used by {seen[stub.id]}",
                    json_path="$.id",
                    file=where,
                    hint="give every mapping its own id, or remove the id to have one generated",
                )
            seen[stub.id] = where
            stubs.append(stub)
    return stubs


def read_body_file(root: Path, name: str) -> bytes | None:
    """The contents of ``__files/<name>`` (``None`` when missing or outside the folder)."""
    base = (root / FILES_DIR).resolve()
    path = (base / name).resolve()
    if base != path and base not in path.parents:
        return None
    try:
        return path.read_bytes()
    except OSError:
        return None
