"""Writing pact files: V4, canonical, and merged from every process of a session.

A written file depends only on its interactions: keys sorted, two-space indent, interactions in a
fixed order (description, provider states, content), no timestamps and no random ids — so two runs
that exchanged the same things write byte-equal files.

Several processes can record interactions for one pact file in one *session* (pytest-xdist
workers, the pytest process and a detached stack's owner, ...).  Each keeps its own *part* (a
JSON file under ``parts_dir/<pact file>/<session>/``; by default the project's
``.stackrig/pact-parts``) and, under an exclusive lock, rewrites the
pact file from the union of the session's parts: nothing is lost, nothing is doubled (an
interaction is identified by its key — for stubs, the mapping it came from — and when several
processes saw different exchanges for one key, the same one is kept whatever the order).  Parts of
another session are removed: the file describes the latest session only.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["SESSION_ENV", "canonical", "dumps", "pact_document", "record_interactions", "session_files",
           "session_token", "set_session", "write_pact"]

SESSION_ENV = "STACKRIG_PACT_SESSION"  # set by the pytest plugin for a session (and its xdist workers)
_session: str | None = None


def set_session(token: str) -> None:
    """The session this process records into when ``STACKRIG_PACT_SESSION`` is not set (a stack's
    owner sets its run id)."""
    global _session
    _session = token


def session_token() -> str:
    return os.environ.get(SESSION_ENV) or _session or f"pid-{os.getpid()}"


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def dumps(doc: Any) -> str:
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("stackrig")
    except Exception:  # noqa: BLE001 - a source tree without metadata
        return "0"


def _order(interaction: Mapping[str, Any]) -> tuple[str, str, str, str]:
    return (str(interaction.get("description", "")), canonical(interaction.get("providerStates", [])),
            str(interaction.get("type", "")), canonical(interaction))


def _unique(keyed: Mapping[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The interactions in their fixed order; two that share a description and states (but not their
    content) get the start of their key appended, so the verifier and a broker can tell them apart."""
    groups: dict[tuple[str, str], list[str]] = {}
    for key, item in keyed.items():
        groups.setdefault((str(item.get("description", "")), canonical(item.get("providerStates", []))), []).append(key)
    out = []
    for key, item in keyed.items():
        same = groups[(str(item.get("description", "")), canonical(item.get("providerStates", [])))]
        if len(same) > 1:
            item = {**item, "description": f"{item.get('description', '')} [{key[:8]}]"}
        out.append(item)
    return sorted(out, key=_order)


def pact_document(consumer: str, provider: str, interactions: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """A V4 pact of `interactions` (dicts in V4 form), in the fixed order, duplicates dropped."""
    keyed = {hashlib.sha256(canonical(i).encode()).hexdigest(): dict(i) for i in interactions}
    return {
        "consumer": {"name": consumer},
        "provider": {"name": provider},
        "interactions": _unique(keyed),
        "metadata": {"pactSpecification": {"version": "4.0"}, "stackrig": {"version": _version()}},
    }


def _write_if_changed(path: Path, text: str) -> None:
    try:
        if path.read_text(encoding="utf-8") == text:
            return
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_pact(path: str | Path, consumer: str, provider: str,
               interactions: Iterable[Mapping[str, Any]]) -> Path:
    """Write a pact file at once (atomically; left alone when its content would not change)."""
    path = Path(path)
    _write_if_changed(path, dumps(pact_document(consumer, provider, interactions)))
    return path


def default_parts_dir(pact_file: Path) -> Path:
    """``.stackrig/pact-parts`` of the nearest folder above the pact file that has a ``.stackrig``
    folder (a stackrig project), else of the pact file's own folder."""
    for folder in pact_file.parents:
        if (folder / ".stackrig").is_dir():
            return folder / ".stackrig" / "pact-parts"
    return pact_file.parent / ".stackrig" / "pact-parts"


def _better(a: dict[str, Any] | None, b: dict[str, Any]) -> dict[str, Any]:
    """Of two exchanges recorded for one key, the one every process would keep (not the first seen)."""
    if a is None:
        return b
    return a if canonical(a) <= canonical(b) else b


def _read_part(path: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    found = data.get("interactions") if isinstance(data, dict) else None
    return {str(k): v for k, v in found.items() if isinstance(v, dict)} if isinstance(found, dict) else {}


def record_interactions(pact_file: str | Path, consumer: str, provider: str,
                        batch: Mapping[str, dict[str, Any]], *, parts_dir: str | Path | None = None,
                        session: str | None = None, owner: str | None = None) -> Path:
    """Add `batch` (key -> V4 interaction) to this process's part of the session and rewrite
    `pact_file` from all of the session's parts, under a lock.  Returns the pact file's path.  An
    empty batch changes nothing (it neither starts a session nor rewrites the file)."""
    pact_file = Path(pact_file).resolve()
    if not batch:
        return pact_file
    base = Path(parts_dir) if parts_dir is not None else default_parts_dir(pact_file)
    tag = hashlib.sha256(str(pact_file).encode()).hexdigest()[:10]
    folder = base / f"{pact_file.stem}-{tag}"
    session = session or session_token()
    safe_session = "".join(c if c.isalnum() or c in "-_." else "_" for c in session)
    mine = folder / safe_session / f"{owner or os.getpid()}.json"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for other in folder.iterdir():
            if other.is_dir() and other.name != safe_session:
                shutil.rmtree(other, ignore_errors=True)  # an earlier session's
        own = _read_part(mine)
        for key, item in batch.items():
            own[key] = _better(own.get(key), item)
        _write_if_changed(mine, dumps({"consumer": consumer, "provider": provider, "file": str(pact_file),
                                       "interactions": own}))
        merged: dict[str, dict[str, Any]] = {}
        for part in sorted((folder / safe_session).glob("*.json")):
            for key, item in _read_part(part).items():
                merged[key] = _better(merged.get(key), item)
        if merged:
            doc = pact_document(consumer, provider, [])
            doc["interactions"] = _unique(merged)
            _write_if_changed(pact_file, dumps(doc))
    return pact_file


def session_files(parts_dir: str | Path, session: str | None = None) -> list[tuple[str, int]]:
    """(pact file, interactions) for every pact file the session recorded into under `parts_dir`."""
    session = session or session_token()
    safe_session = "".join(c if c.isalnum() or c in "-_." else "_" for c in session)
    found: dict[str, set[str]] = {}
    for part in sorted(Path(parts_dir).glob(f"*/{safe_session}/*.json")):
        try:
            data = json.loads(part.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and isinstance(data.get("file"), str):
            found.setdefault(data["file"], set()).update((data.get("interactions") or {}).keys())
    return [(file, len(keys)) for file, keys in sorted(found.items())]
