"""Writing a generated pipeline: never over an existing file unless asked, never half a file."""

from __future__ import annotations

import os
from pathlib import Path

from ._errors import CiError

__all__ = ["write_pipeline"]


def write_pipeline(path: str | os.PathLike[str], text: str, force: bool = False) -> Path:
    """Write `text` to `path` (folders made); :class:`CiError` when it exists and `force` is false."""
    p = Path(path)
    if p.exists() and not force:
        raise CiError(f"{p} already exists", hint="pass --force to overwrite it (or --out PATH to write elsewhere)")
    if p.is_dir():
        raise CiError(f"{p} is a folder", hint="pass --out with a file name")
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, p)
    finally:
        tmp.unlink(missing_ok=True)
    return p
