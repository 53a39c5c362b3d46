"""JSON printed the way WireMock's Jackson ``ObjectMapper`` prints it with its default pretty printer.

WireMock shows JSON in this form wherever it prints a document for people: the ``jsonPath``
template helper, the ``equalToJson`` lines of the near-miss table, and the metadata text that
``find-by-metadata`` matches against.  This module has that one job.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["jackson_pretty"]


def jackson_pretty(value: Any, level: int = 0) -> str:
    """``{\\n  "k" : v\\n}`` for objects, ``[ a, b ]`` for arrays, ``{ }`` / ``[ ]`` when empty."""
    if isinstance(value, dict):
        if not value:
            return "{ }"
        pad = "  " * (level + 1)
        items = [f"{pad}{json.dumps(k)} : {jackson_pretty(v, level + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + "  " * level + "}"
    if isinstance(value, list):
        if not value:
            return "[ ]"
        return "[ " + ", ".join(jackson_pretty(v, level) for v in value) + " ]"
    return json.dumps(value, ensure_ascii=False)
