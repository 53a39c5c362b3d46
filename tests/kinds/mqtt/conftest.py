"""Fixtures of the mqtt kind's tests (the helpers live in mqtt_support, importable by name)."""

from mqtt_support import *  # noqa: F403 - fixtures
