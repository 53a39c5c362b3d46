"""Read a compose file's YAML the way Compose does, keeping the line of every key.

Compose reads YAML 1.2 (Go's yaml.v3): ``22:22`` is a string, not the YAML 1.1 sexagesimal
1342, and ``yes``/``on`` are strings.  PyYAML speaks YAML 1.1, so the loader below drops its
1.1-only implicit types.  Anchors, aliases and merge keys (``<<: *defaults``) work as PyYAML does
them.  The composed node tree gives every key path its line (``lines[("services", "db",
"image")] == 4``), which is how validation errors are located, like the stack file's.
Duplicate keys are an error (yaml.v3 refuses them too).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigError

__all__ = ["Lines", "read_yaml"]

Lines = dict[tuple[str | int, ...], int]

_loader_class: Any = None


def _loader() -> Any:
    """A SafeLoader (libyaml's when available) with YAML 1.2 core-schema scalars."""
    global _loader_class
    if _loader_class is not None:
        return _loader_class
    import yaml  # type: ignore[import-untyped, unused-ignore]

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class ComposeLoader(base):  # type: ignore[misc, valid-type]
        pass

    resolvers: dict[str | None, list[tuple[str, re.Pattern[str]]]] = {}
    for first, entries in base.yaml_implicit_resolvers.items():
        kept = [(tag, rx) for tag, rx in entries if tag not in (
            "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
            "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value")]
        resolvers[first] = kept
    ComposeLoader.yaml_implicit_resolvers = resolvers
    core = [
        ("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")),
        ("tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
         list("-+0123456789")),
        ("tag:yaml.org,2002:float", re.compile(
            r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
         list("-+.0123456789")),
    ]
    for tag, rx, firsts in core:
        ComposeLoader.add_implicit_resolver(tag, rx, firsts)

    def construct_int(loader: Any, node: Any) -> int:
        text = str(loader.construct_scalar(node))
        if text.startswith("0o"):
            return int(text[2:], 8)
        return int(text, 0) if text.startswith("0x") else int(text)

    def construct_bool(loader: Any, node: Any) -> bool:
        return str(loader.construct_scalar(node)).lower() == "true"

    ComposeLoader.add_constructor("tag:yaml.org,2002:int", construct_int)
    ComposeLoader.add_constructor("tag:yaml.org,2002:bool", construct_bool)
    _loader_class = ComposeLoader
    return ComposeLoader


def _walk(node: Any, path: tuple[str | int, ...], lines: Lines, seen: set[int], file: Path) -> None:
    import yaml  # type: ignore[import-untyped, unused-ignore]

    if id(node) in seen and isinstance(node, yaml.CollectionNode):
        return  # an alias to a collection already walked (its own lines are the anchor's)
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        explicit: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            if key == "<<" and key_node.tag == "tag:yaml.org,2002:merge":
                merged = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                for m in merged:
                    _walk(m, path, lines, set(), file)
                continue
            line = key_node.start_mark.line + 1
            if key in explicit:
                raise ConfigError(f"key '{key}' is defined twice (first on line {explicit[key]})", file=file,
                                  line=line, key=".".join(str(p) for p in (*path, key)),
                                  hint="remove one of them; YAML keeps only one value per key")
            explicit[key] = line
            lines[(*path, key)] = line
            _walk(value_node, (*path, key), lines, seen, file)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[(*path, i)] = item.start_mark.line + 1
            _walk(item, (*path, i), lines, seen, file)


def read_yaml(path: Path, text: str) -> tuple[Any, Lines]:
    """The document (plain dicts, lists and scalars) and the line of every key path."""
    try:
        import yaml  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        raise ConfigError("reading a compose file needs PyYAML, which is not installed", file=path,
                          hint="pip install 'stackrig[compose]' (or pip install pyyaml)") from None
    loader = _loader()(text)
    lines: Lines = {}
    try:
        node = loader.get_single_node()
        if node is not None:  # before constructing: that folds merge keys into the node in place
            _walk(node, (), lines, set(), path)
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        col = f", column {mark.column + 1}" if mark is not None else ""
        what = " ".join(p for p in (exc.context, exc.problem) if p)
        raise ConfigError(f"YAML syntax error{col}: {what}", file=path, line=line,
                          hint="check the indentation, quotes and `key: value` syntax on that line") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"YAML error: {exc}", file=path) from None
    finally:
        loader.dispose()
    return data, lines


def locate(lines: Mapping[tuple[str | int, ...], int], keys: tuple[str | int, ...]) -> int | None:
    """The line of `keys`, or of its longest located prefix."""
    while keys:
        if keys in lines:
            return lines[keys]
        keys = keys[:-1]
    return None
