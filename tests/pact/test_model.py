"""Reading pact files: V3 and V4 from real consumers (the conformance files), and every way a file
can fail to be a pact — named by file and place, exit 2 from `stackrig pact show`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pacthelpers import conformance_dir, conformance_files, pact_cli

from stackrig.errors import StackrigError
from stackrig.pact import PactFileError, PactUsageError, load_pact, load_pacts


def test_the_conformance_pacts_load_in_every_version() -> None:
    found = {p.name: load_pact(p) for p in conformance_files()}
    v3 = found["v3-python-UserWebConsumerV3-UserService.json"]
    assert (v3.consumer, v3.provider, v3.version) == ("UserWebConsumerV3", "UserService", "3.0.0")
    js = found["v4-js-UserWebConsumerJS-UserService.json"]
    py = found["v4-python-UserWebConsumer-UserService.json"]
    assert js.version == py.version == "4.0"
    for pact in found.values():
        (interaction,) = pact.interactions
        assert interaction.description == "a request for user 1"
        assert [s.name for s in interaction.states] == ["user 1 exists"]
        assert not interaction.is_message
        assert interaction.label == "a request for user 1 (given user 1 exists)"


def test_a_v3_message_pact_and_v4_messages_read_alike(tmp_path: Path) -> None:
    v3 = {"consumer": {"name": "c"}, "provider": {"name": "p"}, "metadata": {"pactSpecification": {"version": "3.0.0"}},
          "messages": [{"description": "an order", "providerStates": [{"name": "s", "params": {"id": 1}}],
                        "contents": {"id": 1},
                        "matchingRules": {"body": {"$.id": {"matchers": [{"match": "integer"}]}}},
                        "metadata": {"subject": "orders"}}]}
    v4 = {"consumer": {"name": "c"}, "provider": {"name": "p"}, "metadata": {"pactSpecification": {"version": "4.0"}},
          "interactions": [{"type": "Asynchronous/Messages", "description": "an order",
                            "contents": {"content": {"id": 1}, "contentType": "application/json", "encoded": False},
                            "matchingRules": {"body": {"$.id": {"combine": "AND", "matchers": [{"match": "integer"}]}}},
                            "metadata": {"subject": "orders"}}]}
    for name, doc in (("v3.json", v3), ("v4.json", v4)):
        (tmp_path / name).write_text(json.dumps(doc))
        (message,) = load_pact(tmp_path / name).interactions
        assert message.is_message and message.contents == {"id": 1}
        assert message.metadata == {"subject": "orders"}
        assert message.body_rules["$.id"]["matchers"] == [{"match": "integer"}]
    assert load_pact(tmp_path / "v3.json").interactions[0].states[0].params == {"id": 1}


@pytest.mark.parametrize(("content", "message"), [
    ("{ not json", "not JSON: Expecting property name enclosed in double quotes at line 1, column 3"),
    ("[1, 2]", "not a pact: the JSON is list, not an object"),
    ('{"provider": {"name": "p"}, "interactions": []}', "not a pact: it has no consumer name ($.consumer.name)"),
    ('{"consumer": {"name": "c"}, "provider": {"name": "p"}}', "not a pact: it has no 'interactions'"),
    ('{"consumer": {"name": "c"}, "provider": {"name": "p"}, "interactions": {}}', "$.interactions must be a list"),
    ('{"consumer": {"name": "c"}, "provider": {"name": "p"}, "interactions": [{"request": {}}]}',
     "$.interactions[0] has no description"),
    ('{"consumer": {"name": "c"}, "provider": {"name": "p"}, "interactions": [{"description": "d", "type": "X"}]}',
     "$.interactions[0].type 'X' is not an interaction type"),
    ('{"consumer": {"name": "c"}, "provider": {"name": "p"}, "interactions": [{"description": "d", '
     '"request": {"method": "GET", "path": "/"}}]}', "$.interactions[0] ('d') has no response object"),
    ('{"consumer": {"name": "c"}, "provider": {"name": "p"}, "interactions": [{"description": "d", '
     '"providerStates": "s", "request": {}, "response": {}}]}', "$.interactions[0].providerStates must be a list"),
])
def test_what_is_not_a_pact_is_named(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(PactFileError) as caught:
        load_pact(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)
    assert caught.value.file == str(path)
    assert isinstance(caught.value, StackrigError)


def test_sources_folders_and_missing_files(tmp_path: Path) -> None:
    assert [p.path for p in load_pacts([conformance_dir()])] == [str(p) for p in conformance_files()]
    with pytest.raises(PactFileError, match="no such file"):
        load_pacts([tmp_path / "nope.json"])
    with pytest.raises(PactFileError, match="holds no"):
        load_pacts([tmp_path])
    with pytest.raises(PactUsageError, match="no pact given is for the provider 'Other'"):
        load_pacts([conformance_dir()], provider_name="Other")
    with pytest.raises(PactUsageError, match="no pact files given"):
        load_pacts([])


def test_pact_show_lists_and_refuses(tmp_path: Path) -> None:
    done = pact_cli("pact", "show", str(conformance_dir()), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "UserWebConsumerJS -> UserService (Pact 4.0), 1 interactions" in done.stdout
    assert "  - a request for user 1 (given user 1 exists)" in done.stdout
    as_json = json.loads(pact_cli("pact", "show", "--json", str(conformance_files()[0]), cwd=tmp_path).stdout)
    assert as_json[0]["specification"] == "3.0.0"
    (tmp_path / "broken.json").write_text("nope")
    bad = pact_cli("pact", "show", str(tmp_path / "broken.json"), cwd=tmp_path)
    assert bad.returncode == 2
    assert f"{tmp_path / 'broken.json'}: not JSON" in bad.stderr
