"""XML text and files: characters XML 1.0 cannot hold, atomic writes checked for well-formedness."""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

__all__ = ["xml_safe", "write_xml"]

# XML 1.0's characters, without DEL (as pytest's junitxml)
_ILLEGAL = re.compile("[^\u0009\u000a\u000d\u0020-\u007e\u0080-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _mark(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"#x{code:02X}" if code <= 0xFF else f"#x{code:04X}"


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot hold, each written as ``#xHH`` (pytest's way)."""
    return _ILLEGAL.sub(_mark, text)


def write_xml(root: ET.Element, path: str | os.PathLike[str]) -> Path:
    """Write ``root`` as a UTF-8 XML file, atomically; read it back to check it is well-formed."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(b'<?xml version="1.0" encoding="utf-8"?>')
        f.write(ET.tostring(root, encoding="utf-8", xml_declaration=False))
    ET.parse(tmp)
    os.replace(tmp, target)
    return target
