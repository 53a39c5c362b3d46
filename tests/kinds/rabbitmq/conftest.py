"""Fixtures of the rabbitmq kind's tests (the helpers live in rabbitmq_support, importable by name)."""

from rabbitmq_support import *  # noqa: F403 - fixtures
