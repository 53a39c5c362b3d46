"""The CLI: a session that only attached to `stackrig up -d` taps, publishes and resets; `stackrig
doctor` has a row for the kind; a bad stack file fails `up` with the located error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import leftovers, run_cli, tree_of
from rabbitmq_support import needs_rabbitmq, text_of

pytestmark = needs_rabbitmq

STACK = """
[services.bus]
kind = "rabbitmq"
exchanges = [{ name = "orders", type = "topic" }]
queues = [{ name = "billing" }]
bindings = [{ exchange = "orders", queue = "billing", routing_key = "order.*" }]
tap_exchange = "orders"
export = { BUS_URL = "${url}" }
"""

TESTS = """
import json, pathlib

def test_tap_publish_queue(rig):
    tap = rig.events("bus", "order.*")
    rig.publish("bus", "order.created", {"id": 1})
    assert tap.wait_for("order.created").body == {"id": 1}
    assert len(rig.queue("bus", "billing")) == 1
    pathlib.Path("record.json").write_text(json.dumps({"run_id": rig.run_id, "pids": rig["bus"].info.pids}))

def test_reset_ran_between(rig):
    assert len(rig.queue("bus", "billing")) == 0
    assert rig.env["BUS_URL"] == rig["bus"].url and rig.env["AMQP_URL"] == rig["bus"].url
"""


@pytest.mark.slow
def test_a_session_attached_to_stackrig_up(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", stackrig=text_of(STACK))
    pytester.makepyfile(TESTS)
    up = run_cli("up", "-d", cwd=pytester.path)
    assert up.returncode == 0, up.stderr
    try:
        pointer = json.loads((pytester.path / ".stackrig" / "current.json").read_text())
        current = json.loads(Path(pointer["state"]).read_text())
        result = pytester.runpytest_subprocess("-p", "no:randomly")
        result.assert_outcomes(passed=2)
        result.stdout.fnmatch_lines(["stackrig: stack * attached to stackrig up (pid *) in * ms"])
        record = json.loads((pytester.path / "record.json").read_text())
        assert record["run_id"] == current["run_id"]
        tree = tree_of(record["pids"])
    finally:
        run_cli("down", cwd=pytester.path)
    assert leftovers(current["run_id"], [], tree) == []


def test_doctor_has_a_row_for_rabbitmq(tmp_path: Path) -> None:
    (tmp_path / "stackrig.toml").write_text(text_of(STACK))
    done = run_cli("doctor", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    row = next(line for line in done.stdout.splitlines() if line.strip().startswith("kind rabbitmq"))
    assert "system" in row and "3." in row and "erl" in row
    assert any("service bus (rabbitmq): system 3." in line for line in done.stdout.splitlines())


def test_up_with_a_bad_definitions_file_names_the_file_and_path(tmp_path: Path) -> None:
    (tmp_path / "defs.json").write_text('{"queues": [{"name": "q", "durable": "yes"}]}')
    (tmp_path / "stackrig.toml").write_text('[services.bus]\nkind = "rabbitmq"\ndefinitions = "defs.json"\n')
    done = run_cli("up", cwd=tmp_path)
    assert done.returncode != 0
    assert (f"{tmp_path / 'defs.json'}:1: [$.queues[0].durable] expected true or false, found the string 'yes'"
            in done.stdout + done.stderr)
