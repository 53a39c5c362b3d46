"""Fixtures of the mqtt kind's tests (the helpers live in mqtt_support, importable by name)."""

import pytest
from mqtt_support import *  # noqa: F403 - fixtures
from mqtt_support import NO_MOSQUITTO


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Where stackrig finds no mosquitto, every case of it skips (amqtt's still run)."""
    if not NO_MOSQUITTO:
        return
    skip = pytest.mark.skip(reason="mosquitto is not installed (apt-get install mosquitto); amqtt, the wheel, "
                                   "is tested")
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "mosquitto" in callspec.id.split("-"):
            item.add_marker(skip)
