"""Writing pact files: canonical bytes, one file from many processes of a session, a new session
starts afresh."""

from __future__ import annotations

import json
from pathlib import Path

from stackrig.pact import load_pact, record_interactions, session_files, write_pact


def _item(description: str, note: str = "") -> dict[str, object]:
    return {"type": "Synchronous/HTTP", "description": description,
            "request": {"method": "GET", "path": f"/{description}", **({"query": {"n": [note]}} if note else {})},
            "response": {"status": 200}}


def test_the_bytes_depend_only_on_the_interactions(tmp_path: Path) -> None:
    a = write_pact(tmp_path / "a.json", "c", "p", [_item("x"), _item("a"), _item("x")])
    b = write_pact(tmp_path / "b.json", "c", "p", [_item("a"), _item("x")])
    assert a.read_bytes() == b.read_bytes()
    doc = json.loads(a.read_text())
    assert [i["description"] for i in doc["interactions"]] == ["a", "x"]
    assert doc["metadata"]["pactSpecification"] == {"version": "4.0"}
    assert a.read_text().endswith("}\n") and "  " in a.read_text()
    assert len(load_pact(a).interactions) == 2


def test_parts_of_one_session_merge_and_a_new_session_starts_afresh(tmp_path: Path) -> None:
    pact, parts = tmp_path / "pacts" / "c-p.json", tmp_path / "parts"
    record_interactions(pact, "c", "p", {"k1": _item("one", "b")}, parts_dir=parts, session="s1", owner="w1")
    record_interactions(pact, "c", "p", {"k1": _item("one", "a"), "k2": _item("two")}, parts_dir=parts,
                        session="s1", owner="w2")
    doc = json.loads(pact.read_text())
    assert [i["description"] for i in doc["interactions"]] == ["one", "two"]
    assert doc["interactions"][0]["request"]["query"] == {"n": ["a"]}  # the same pick whatever the order
    assert session_files(parts, "s1") == [(str(pact.resolve()), 2)]
    before = pact.read_bytes()
    record_interactions(pact, "c", "p", {}, parts_dir=parts, session="s2", owner="w1")  # nothing: no change
    assert pact.read_bytes() == before and session_files(parts, "s1")
    record_interactions(pact, "c", "p", {"k2": _item("two")}, parts_dir=parts, session="s2", owner="w1")
    assert [i["description"] for i in json.loads(pact.read_text())["interactions"]] == ["two"]
    assert session_files(parts, "s1") == []


def test_same_description_and_states_different_content_are_told_apart(tmp_path: Path) -> None:
    pact = tmp_path / "c-p.json"
    record_interactions(pact, "c", "p", {"aaaaaaaa11": _item("same", "1"), "bbbbbbbb22": _item("same", "2")},
                        parts_dir=tmp_path / "parts", session="s")
    names = [i["description"] for i in json.loads(pact.read_text())["interactions"]]
    assert names == ["same [aaaaaaaa]", "same [bbbbbbbb]"]
