"""docs/kinds/rabbitmq.md: every key of the kind is documented, and its example stack file loads."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec

from stackrig import load_stack
from stackrig.config import ServerSpec
from stackrig.kinds.rabbitmq._spec import BindingSpec, ExchangeSpec, QueueSpec, RabbitSpec

DOC = Path(__file__).resolve().parents[3] / "docs" / "kinds" / "rabbitmq.md"


def test_every_key_is_in_the_keys_table() -> None:
    text = DOC.read_text()
    table = text[text.index("## Keys"):text.index("### Definitions")]
    base = {f.name for f in msgspec.structs.fields(ServerSpec)} - {"version", "path", "port"}
    for field in msgspec.structs.fields(RabbitSpec):
        if field.name not in base:
            assert f"`{field.name}`" in table, field.name
    for struct in (ExchangeSpec, QueueSpec, BindingSpec):
        for field in msgspec.structs.fields(struct):
            assert re.search(rf"\b{field.name}\b", table), (struct.__name__, field.name)
    for attr in RabbitSpec.attributes:
        assert f"`{attr}`" in text, attr


def test_the_example_loads(tmp_path: Path) -> None:
    text = DOC.read_text()
    example = text.split("```toml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "stackrig.toml").write_text(example)
    stack = load_stack(tmp_path / "stackrig.toml")
    bus = stack.services["bus"]
    assert isinstance(bus, RabbitSpec) and bus.default_exchange == "orders"
    assert stack.start_order() == ["bus", "billing"]
