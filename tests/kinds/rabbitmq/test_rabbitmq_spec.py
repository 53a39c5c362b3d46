"""Stack-file keys, the definitions file and the installation search: every error message, no broker."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from stackrig import ConfigError, ProviderNotFound, load_stack
from stackrig.kinds.rabbitmq._definitions import load_definitions, merged_definitions, vhost_definitions
from stackrig.kinds.rabbitmq._install import find_install
from stackrig.kinds.rabbitmq._spec import RabbitSpec

GOOD = """
[services.bus]
kind = "rabbitmq"
exchanges = [{ name = "orders", type = "topic" }]
queues = [{ name = "billing", durable = true }]
bindings = [{ exchange = "orders", queue = "billing", routing_key = "order.*" }]
tap_exchange = "orders"
"""


def error_of(stackfile: Callable[[str], Path], text: str) -> str:
    path = stackfile(text)
    with pytest.raises(ConfigError) as info:
        load_stack(path)
    return str(info.value).replace(str(path), "stackrig.toml")


def test_a_good_stack_loads_with_its_defaults(stackfile: Callable[[str], Path]) -> None:
    spec = load_stack(stackfile(GOOD)).services["bus"]
    assert isinstance(spec, RabbitSpec)
    assert (spec.vhost, spec.user, spec.password, spec.management, spec.isolation) == ("/", "guest", "guest",
                                                                                      False, "purge")
    assert spec.default_exchange == "orders"
    assert spec.exchanges[0].durable and spec.queues[0].durable
    assert spec.bindings[0].destination == ("queue", "billing")


def test_an_unknown_key_names_file_line_key_and_the_closest_key(stackfile: Callable[[str], Path]) -> None:
    text = error_of(stackfile, GOOD + 'tap_exchnage = "orders"\n')
    assert text.startswith("stackrig.toml:8: [services.bus.tap_exchnage] unknown key 'tap_exchnage' "
                           "(did you mean 'tap_exchange'?)")
    assert "fix: remove it, or use one of:" in text and "definitions" in text


def test_an_unknown_key_inside_an_exchange(stackfile: Callable[[str], Path]) -> None:
    text = error_of(stackfile, GOOD.replace('type = "topic"', 'typ = "topic"'))
    assert text.startswith("stackrig.toml:4: [services.bus.exchanges.0.typ] unknown key 'typ' (did you mean 'type'?)")


def test_a_bad_exchange_type(stackfile: Callable[[str], Path]) -> None:
    text = error_of(stackfile, GOOD.replace('type = "topic"', 'type = "topik"'))
    assert text == ("stackrig.toml:4: [services.bus.exchanges.0.type] exchange type 'topik' is not one of direct, "
                    "fanout, topic, headers (did you mean 'topic'?) (a plugin's type starts with 'x-', e.g. "
                    "'x-consistent-hash')")


def test_a_binding_to_an_undeclared_exchange(stackfile: Callable[[str], Path]) -> None:
    text = error_of(stackfile, GOOD.replace('exchange = "orders", queue', 'exchange = "ordrs", queue'))
    assert text == ("stackrig.toml:6: [services.bus.bindings] bindings[0]: exchange 'ordrs' is not declared "
                    "(did you mean 'orders'?); declare it in `exchanges`")


def test_a_binding_to_an_undeclared_queue(stackfile: Callable[[str], Path]) -> None:
    text = error_of(stackfile, GOOD.replace('queue = "billing", routing_key', 'queue = "biling", routing_key'))
    assert text == ("stackrig.toml:6: [services.bus.bindings] bindings[0]: queue 'biling' is not declared "
                    "(did you mean 'billing'?); declare it in `queues`")


def test_a_binding_needs_one_destination(stackfile: Callable[[str], Path]) -> None:
    text = error_of(stackfile, GOOD.replace('queue = "billing", routing_key', 'routing_key'))
    assert text == ("stackrig.toml:6: [services.bus.bindings.0] a binding needs exactly one destination: "
                    '`queue = "..."` or `to_exchange = "..."`')


def test_a_binding_to_the_default_exchange(stackfile: Callable[[str], Path]) -> None:
    text = error_of(stackfile, GOOD.replace('exchange = "orders", queue', 'exchange = "", queue'))
    assert text.startswith("stackrig.toml:6: [services.bus.bindings.0.exchange] the default exchange ('') cannot "
                           "be bound")


def test_tap_exchange_must_exist(stackfile: Callable[[str], Path]) -> None:
    text = error_of(stackfile, GOOD.replace('tap_exchange = "orders"', 'tap_exchange = "order"'))
    assert text == ("stackrig.toml:7: [services.bus.tap_exchange] tap_exchange 'order' is not declared "
                    "(did you mean 'orders'?); declare it in `exchanges`, or use amq.topic")


def test_reserved_and_duplicate_names(stackfile: Callable[[str], Path]) -> None:
    text = error_of(stackfile, GOOD.replace('name = "billing"', 'name = "amq.billing"'))
    assert text == ("stackrig.toml:5: [services.bus.queues.0.name] queue name 'amq.billing' starts with 'amq.', "
                    "which RabbitMQ reserves for its own queues (declaring one is refused with ACCESS_REFUSED)")
    text = error_of(stackfile, GOOD.replace('[{ name = "billing", durable = true }]',
                                            '[{ name = "billing" }, { name = "billing" }]'))
    assert text == "stackrig.toml:5: [services.bus.queues] queues[1]: 'billing' is declared twice"


def test_a_quorum_queue_must_be_durable(stackfile: Callable[[str], Path]) -> None:
    text = error_of(stackfile, GOOD.replace('durable = true }', 'durable = false, type = "quorum" }'))
    assert text == ("stackrig.toml:5: [services.bus.queues.0.durable] a quorum queue must be durable and not "
                    "auto-delete (RabbitMQ refuses 'billing' otherwise)")


def test_queue_type_values(stackfile: Callable[[str], Path]) -> None:
    text = error_of(stackfile, GOOD.replace('durable = true }', 'type = "lazy" }'))
    assert text.startswith("stackrig.toml:5: [services.bus.queues.0.type] 'lazy' is not one of 'classic', "
                           "'quorum', 'stream'")


def test_empty_password_and_vhost(stackfile: Callable[[str], Path]) -> None:
    assert error_of(stackfile, GOOD + 'password = ""\n') == (
        "stackrig.toml:8: [services.bus.password] password must not be empty (RabbitMQ refuses an empty password "
        "on AMQP PLAIN authentication)")
    assert error_of(stackfile, GOOD + 'vhost = ""\n') == (
        'stackrig.toml:8: [services.bus.vhost] vhost must not be empty (the default vhost is "/")')


def test_plugins(stackfile: Callable[[str], Path]) -> None:
    assert error_of(stackfile, GOOD + 'plugins = ["shovel"]\n') == (
        "stackrig.toml:8: [services.bus.plugins] plugins[0]: 'shovel' is not a plugin name (they look like "
        "'rabbitmq_shovel')")
    assert error_of(stackfile, GOOD + 'plugins = ["rabbitmq_management"]\n') == (
        "stackrig.toml:8: [services.bus.plugins] use `management = true` for rabbitmq_management (it gets a port "
        "and ${management_url})")


def test_isolation_values(stackfile: Callable[[str], Path]) -> None:
    assert error_of(stackfile, GOOD + 'isolation = "flush"\n').startswith(
        "stackrig.toml:8: [services.bus.isolation] 'flush' is not one of 'purge', 'always', 'none'")


def test_a_bad_version_constraint(stackfile: Callable[[str], Path]) -> None:
    assert error_of(stackfile, GOOD + 'version = "three"\n').startswith(
        "stackrig.toml:8: [services.bus.version] version constraint 'three' is not valid")


def test_unknown_attribute_reference(stackfile: Callable[[str], Path]) -> None:
    text = error_of(stackfile, GOOD + """
[services.app]
kind = "process"
command = ["@PY@", "-c", "pass"]
env = { URL = "${bus.uri}" }
""")
    assert "[services.app.env.URL] unresolved ${bus.uri}: a rabbitmq service has no attribute 'uri'" in text
    assert "management_url" in text and "vhost" in text


# -- the definitions file --------------------------------------------------------------------

EXPORT = {
    "rabbit_version": "3.10.8",
    "users": [{"name": "app", "password_hash": "x", "hashing_algorithm": "rabbit_password_hashing_sha256",
               "tags": ""}],
    "vhosts": [{"name": "/"}],
    "permissions": [{"user": "app", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"}],
    "policies": [{"vhost": "/", "name": "ttl", "pattern": "^billing$", "apply-to": "queues",
                  "definition": {"message-ttl": 60000}, "priority": 0}],
    "queues": [{"name": "billing", "vhost": "/", "durable": True, "auto_delete": False, "arguments": {}},
               {"name": "audit", "vhost": "/", "durable": True, "auto_delete": False,
                "arguments": {"x-queue-type": "classic"}}],
    "exchanges": [{"name": "orders", "vhost": "/", "type": "topic", "durable": True, "auto_delete": False,
                   "internal": False, "arguments": {}}],
    "bindings": [{"source": "orders", "vhost": "/", "destination": "billing", "destination_type": "queue",
                  "routing_key": "order.*", "arguments": {}}],
}


def write(tmp_path: Path, doc: object | str, name: str = "definitions.json") -> Path:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc, indent=2))
    return path


def definitions_error(tmp_path: Path, doc: object | str) -> str:
    path = write(tmp_path, doc)
    with pytest.raises(ConfigError) as info:
        load_definitions(path)
    return str(info.value).replace(str(path), "definitions.json")


def test_a_management_export_loads(tmp_path: Path) -> None:
    doc, _ = load_definitions(write(tmp_path, EXPORT))
    assert [q["name"] for q in doc["queues"]] == ["billing", "audit"]


def test_json_syntax_errors_name_the_line(tmp_path: Path) -> None:
    assert definitions_error(tmp_path, '{\n  "queues": [\n    {"name": "a",}\n  ]\n}') == (
        "definitions.json:3: not valid JSON: Expecting property name enclosed in double quotes (column 18)\n"
        "  fix: a definitions export is one JSON object")


def test_definition_errors_name_the_json_path_and_line(tmp_path: Path) -> None:
    bad = json.loads(json.dumps(EXPORT))
    bad["queues"][1]["durable"] = "yes"
    assert definitions_error(tmp_path, bad) == (
        "definitions.json:48: [$.queues[1].durable] expected true or false, found the string 'yes'\n"
        "  fix: fix the file (a `rabbitmqctl export_definitions` or management export)")


def test_an_unknown_section(tmp_path: Path) -> None:
    assert definitions_error(tmp_path, {"queue": []}).startswith(
        "definitions.json:2: [$.queue] unknown key 'queue' (did you mean 'queues'?)\n  fix: the sections are: users")


def test_a_missing_key_and_wrong_shapes(tmp_path: Path) -> None:
    assert definitions_error(tmp_path, {"exchanges": [{"name": "x"}]}).startswith(
        "definitions.json:3: [$.exchanges[0]] missing required key 'type' (a string)")
    assert definitions_error(tmp_path, {"queues": {"name": "x"}}).startswith(
        "definitions.json:2: [$.queues] expected an array, found an object")
    assert definitions_error(tmp_path, ["queues"]).startswith("definitions.json:1: [$] expected an object at the top")
    assert definitions_error(tmp_path, {"users": [{"name": "u", "tags": ""}]}).startswith(
        "definitions.json:3: [$.users[0]] user 'u' has neither 'password_hash' nor 'password'")
    assert definitions_error(tmp_path, {"exchanges": [{"name": "amq.x", "type": "topic"}]}).startswith(
        "definitions.json:4: [$.exchanges[0].name] exchange 'amq.x': names starting with 'amq.' are RabbitMQ's own")


def test_a_binding_must_name_objects_of_its_vhost(tmp_path: Path) -> None:
    bad = json.loads(json.dumps(EXPORT))
    bad["bindings"][0]["destination"] = "biling"
    assert definitions_error(tmp_path, bad) == (
        "definitions.json:70: [$.bindings[0].destination] queue 'biling' is not in the file's queues of vhost '/'\n"
        "  fix: fix the file (a `rabbitmqctl export_definitions` or management export)")


def test_a_missing_definitions_file(stackfile: Callable[[str], Path], tmp_path: Path) -> None:
    spec = load_stack(stackfile(GOOD + 'definitions = "nope.json"\n')).services["bus"]
    assert isinstance(spec, RabbitSpec)
    with pytest.raises(ConfigError) as info:
        merged_definitions(spec, tmp_path, tmp_path / "stackrig.toml")
    assert str(info.value) == (f"{tmp_path / 'nope.json'}: definitions file not found\n"
                               "  fix: fix `definitions`; it is relative to the stack file")


def test_declared_names_may_come_from_the_definitions(stackfile: Callable[[str], Path], tmp_path: Path) -> None:
    write(tmp_path, EXPORT)
    path = stackfile('[services.bus]\nkind = "rabbitmq"\ndefinitions = "definitions.json"\nuser = "tests"\n'
                     'password = "s3cret"\ntap_exchange = "orders"\n'
                     'bindings = [{ exchange = "orders", queue = "audit", routing_key = "#" }]\n')
    spec = load_stack(path).services["bus"]
    assert isinstance(spec, RabbitSpec)
    doc = merged_definitions(spec, tmp_path, path)
    assert [u["name"] for u in doc["users"]] == ["app", "tests"]
    assert doc["users"][1] == {"name": "tests", "password": "s3cret", "tags": ["administrator"]}
    assert {"user": "tests", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"} in doc["permissions"]
    assert [(b["source"], b["destination"]) for b in doc["bindings"]] == [("orders", "billing"), ("orders", "audit")]
    one = vhost_definitions(doc, "/")
    assert set(one) == {"parameters", "policies", "queues", "exchanges", "bindings"}
    assert all("vhost" not in item for items in one.values() for item in items)


def test_a_stack_binding_to_a_name_nowhere(stackfile: Callable[[str], Path], tmp_path: Path) -> None:
    write(tmp_path, EXPORT)
    path = stackfile('[services.bus]\nkind = "rabbitmq"\ndefinitions = "definitions.json"\n'
                     'bindings = [{ exchange = "orders", queue = "audits" }]\n')
    spec = load_stack(path).services["bus"]
    assert isinstance(spec, RabbitSpec)
    with pytest.raises(ConfigError) as info:
        merged_definitions(spec, tmp_path, path)
    assert str(info.value) == (
        f"{path}:4: [services.bus.bindings] bindings[0]: queue 'audits' is not declared (did you mean 'audit'?); "
        "declare it in `queues` or in the definitions file\n"
        "  fix: names come from the stack file's `exchanges`/`queues` and from definitions.json")


# -- the installation ------------------------------------------------------------------------

def test_the_system_installation_is_found_without_running_it(tmp_path: Path) -> None:
    found = find_install(service="bus", version=None, path=None, root=tmp_path)
    assert (found.home / "plugins").is_dir() and found.version.major >= 3
    assert found.erlang.erlexec.exists() and found.erlang.major >= 23


def test_a_version_nobody_has(tmp_path: Path) -> None:
    with pytest.raises(ProviderNotFound) as info:
        find_install(service="bus", version="2.8", path=None, root=tmp_path)
    text = str(info.value)
    assert text.startswith("service 'bus': no rabbitmq server '2.8' found\n  looked in:\n")
    assert "does not satisfy '2.8'" in text
    assert text.endswith("fix: apt-get install rabbitmq-server, or brew install rabbitmq (it brings Erlang); "
                         "or relax `version = '2.8'`")


def test_a_path_that_is_no_installation(tmp_path: Path) -> None:
    (tmp_path / "rmq").mkdir()
    with pytest.raises(ProviderNotFound) as info:
        find_install(service="bus", version="2.8", path="rmq", root=tmp_path)
    text = str(info.value)
    assert "    - rmq (stack file `path`): not a RabbitMQ installation (no plugins/rabbit-*/ebin/rabbit.app there, " \
           "nor in its parent or libexec/)" in text
    assert "or point `path` at the RabbitMQ folder (the one holding plugins/ and sbin/)" in text
