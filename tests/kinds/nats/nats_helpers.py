"""Helpers of the NATS kind's tests (importable as `nats_helpers`: a name no other test folder uses)."""

from __future__ import annotations

import json
import sys
import textwrap
import urllib.request
from pathlib import Path
from typing import Any

NATS_PROGRAMS = Path(__file__).parent / "programs"


def text_of(stack: str) -> str:
    """A stack file's text: dedented, @NATS_PROGRAMS@ and @PY@ filled in."""
    return (textwrap.dedent(stack).replace("@NATS_PROGRAMS@", str(NATS_PROGRAMS))
            .replace("@PY@", sys.executable))


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())
