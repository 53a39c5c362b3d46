"""The pact tests' fixtures (in pacthelpers.py, importable by the test modules under a unique name)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ["PACT_DO_NOT_TRACK"] = "true"  # pact-python and pact-js: no usage reporting, in every child too
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pacthelpers import users_project, users_rig  # noqa: E402

__all__ = ["users_project", "users_rig"]
