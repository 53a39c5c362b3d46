"""Fixtures of the compose front door's tests (the helpers live in compose_support, importable by name)."""

from compose_support import *  # noqa: F403 - fixtures
