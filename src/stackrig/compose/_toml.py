"""Write the planned stack as a `stackrig.toml`, commented with what became of every compose key.

The same text is what a compose file runs as: :func:`~stackrig.compose.load_compose` renders it
(without comments) and validates it with the stack-file loader, so ``stackrig import compose``
writes exactly the stack that ``stackrig run -f docker-compose.test.yml`` runs — except the
``version`` lines: a run pins the nearest version available here, the import writes the image's
tag as a comment.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ._assemble import Assembled
from ._hook import Key, Note
from ._plan import Planned

__all__ = ["render"]

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")
_LEAD = ("kind", "version", "command", "cwd", "port", "replicas", "build", "build_inputs", "depends_on", "ready",
         "start_timeout", "stop_timeout")


def _prefers(kind: str) -> bool:
    from ._load import _prefers as prefers

    return prefers(kind)


def _key(k: str) -> str:
    return k if _BARE.match(k) else json.dumps(k, ensure_ascii=False)


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, Mapping):
        return "{ " + ", ".join(f"{_key(str(k))} = {_value(x)}" for k, x in v.items()) + " }" if v else "{}"
    raise TypeError(f"cannot write {type(v).__name__} in TOML")


def _where(asm: Assembled, p: Planned, key: Key) -> str:
    line = asm.doc.located.line((*p.sd.keys, *key))
    return f"{asm.doc.path.name}:{line}" if line else asm.doc.path.name


def _comment_lines(asm: Assembled, p: Planned) -> list[str]:
    head = f"# {p.source} ({_where(asm, p, ())}) → kind \"{p.kind}\""
    if p.job:
        head += ", a one-off job"
    lines = [head]
    order = {"mapped": 0, "warning": 1, "dropped": 2}
    seen: set[str] = set()
    for note in sorted(p.notes, key=lambda n: order[n.level]):
        text = note.text.replace("\n", " ")
        if text in seen:
            continue
        seen.add(text)
        line = asm.doc.located.line((*p.sd.keys, *note.key)) if note.key else None
        lines.append(f"#   {note.level}" + (f" (line {line})" if line else "") + f": {text}")
    return lines


def _service(asm: Assembled, p: Planned, *, comments: bool, version: str | None, tag: str | None) -> list[str]:
    out = [f"[services.{_key(p.name)}]"]
    if comments:
        out.extend(_comment_lines(asm, p))
    table = {"kind": p.kind, **p.table}
    subtables = {k: table.pop(k) for k in ("env", "export") if isinstance(table.get(k), Mapping) and
                 (len(table[k]) > 2 or any(len(str(v)) > 40 for v in table[k].values()))}
    keys = [k for k in _LEAD if k in table or (k == "version" and (version or tag))] + \
        [k for k in table if k not in _LEAD]
    for k in keys:
        if k == "version":
            if version is not None:
                out.append(f"version = {_value(version)}" + (f"  # the image's tag asks for {tag}" if comments and tag
                                                             and tag != version else ""))
            elif tag and _prefers(p.kind):
                out.append(f"prefer_version = {_value(tag)}" + ("  # the image's tag: the nearest available version "
                                                                 "runs, with a warning" if comments else ""))
            elif tag and comments:
                out.append(f"# version = {_value(tag)}  # the image's tag: a preference; the nearest available "
                           "version runs")
            continue
        out.append(f"{_key(k)} = {_value(table[k])}")
    for k, sub in subtables.items():
        out.append("")
        out.append(f"[services.{_key(p.name)}.{k}]")
        for name, value in sub.items():
            out.append(f"{_key(str(name))} = {_value(value)}")
    return out


def render(asm: Assembled, *, comments: bool = True, versions: Mapping[str, str | None] | None = None,
           command: str = "") -> str:
    """The stack as TOML; `versions`: service -> the `version` a run pins (None: write tags as comments)."""
    out: list[str] = []
    name = asm.doc.path.name
    if comments:
        out += [f"# stackrig.toml — the services of {name}, run natively by stackrig (docs/compose.md).",
                f"# Written by `{command or 'stackrig import compose ' + name}`.  `stackrig run -f {name} -- CMD`",
                "# runs the compose file itself the same way; this file is the starting point to keep instead.",
                "# Addresses are rewritten: NAME:CONTAINER_PORT is 127.0.0.1 and the port stackrig allocates.",
                ""]
        if asm.skipped:
            out.append("# Not run by stackrig:")
            for skipped, why in asm.skipped.items():
                sd = asm.doc.services[skipped]
                what = f"image {sd.svc.image.text}" if sd.svc.image else "build"
                out.append(f"#   {skipped} ({what}): {why}")
            out.append("")
        top = [n for _, n in asm.notes]
        if top:
            out.append(f"# {name} (top level):")
            for note in top:
                line = asm.doc.located.line(note.key)
                out.append(f"#   {note.level}" + (f" (line {line})" if line else "") + f": {note.text}")
            out.append("")
    settings = {k: v for k, v in asm.doc.settings.items()}
    if settings:
        out.append("[stackrig]")
        out.extend(f"{_key(k)} = {_value(v)}" for k, v in settings.items())
        out.append("")
    for p in asm.services.values():
        version = versions.get(p.name) if versions is not None else None
        tag = p.version if versions is None else None  # an import writes the tag; a run, what the providers chose
        out.extend(_service(asm, p, comments=comments, version=version, tag=tag))
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def notes_of(asm: Assembled) -> list[tuple[str, Note]]:
    """Every note with the service it belongs to (top-level ones under "")."""
    found = [("", n) for _, n in asm.notes]
    for p in asm.services.values():
        found.extend((p.name, n) for n in p.notes)
    return found
