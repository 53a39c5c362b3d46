"""The Python side of matching rules: which captured message is the one a pact describes."""

from __future__ import annotations

import json

from pacthelpers import conformance_files

from stackrig.pact import mismatches
from stackrig.pact._rules import parse_path


def _conformance_rules() -> tuple[object, dict[str, object]]:
    doc = json.loads(conformance_files()[-1].read_text())
    response = doc["interactions"][0]["response"]
    return response["body"]["content"], response["matchingRules"]["body"]


def test_the_conformance_rules_accept_other_values_of_the_same_shape() -> None:
    expected, rules = _conformance_rules()
    assert mismatches(expected, {"id": 42, "name": "Bob", "email": "bob@example.org", "extra": True}, rules) == []


def test_and_name_what_breaks_them() -> None:
    expected, rules = _conformance_rules()
    found = mismatches(expected, {"id": "42", "name": 7, "email": "no-at-sign"}, rules)
    assert "$.id: '42' is not an integer" in found
    assert "$.name: expected a string, found a number 7" in found
    assert any(f.startswith("$.email: 'no-at-sign' does not match") for f in found)
    assert mismatches(expected, {"id": 1, "name": "x"}, rules) == ["$.email: missing"]


def test_without_rules_values_are_exact_and_lists_keep_their_length() -> None:
    assert mismatches({"a": [1, 2]}, {"a": [1, 2], "b": 0}) == []
    assert mismatches({"a": [1, 2]}, {"a": [1]}) == ["$.a: expected 2 items, found 1"]
    assert mismatches({"a": "x"}, {"a": "y"}) == ["$.a: expected 'x', found 'y'"]


def test_a_type_rule_cascades_and_min_applies_to_lists() -> None:
    rules = {"$": {"matchers": [{"match": "type"}]}, "$.items": {"matchers": [{"match": "type", "min": 1}]}}
    expected = {"id": 1, "items": [{"sku": "a"}]}
    assert mismatches(expected, {"id": 9, "items": [{"sku": "b"}, {"sku": "c"}]}, rules) == []
    assert mismatches(expected, {"id": 9, "items": []}, rules) == ["$.items: expected at least 1 items, found 0"]
    assert mismatches(expected, {"id": "9", "items": [{"sku": 1}]}, rules) == [
        "$.id: expected a number, found a string '9'", "$.items[0].sku: expected a string, found a number 1"]


def test_paths_and_combine_or() -> None:
    assert parse_path("$.a.*") == ["a", "*"]
    assert parse_path("$.a[0]['b c']") == ["a", 0, "b c"]
    assert parse_path("$.items[*].id") == ["items", "*", "id"]
    rules = {"$.v": {"combine": "OR", "matchers": [{"match": "integer"}, {"match": "null"}]}}
    assert mismatches({"v": 1}, {"v": None}, rules) == []
    assert len(mismatches({"v": 1}, {"v": "x"}, rules)) == 2
