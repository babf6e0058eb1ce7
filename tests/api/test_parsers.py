"""JSON request bodies: nesting past JSON_MAX_DEPTH is a 400 naming the body, never a 500."""

from __future__ import annotations

import pytest

from neural.api.parsers import deeper_than


@pytest.mark.parametrize("depth", [33, 5000])
def test_it_refuses_a_deeply_nested_body(api, dataset, depth):
    body = '{"pattern_type": "coordination", "training_data": "coord", "config": ' + "[" * depth + "]" * depth + "}"
    res = api.generic("POST", "/api/v1/neural/train", body, content_type="application/json")
    assert res.status_code == 400, res.content
    assert "nested deeper than 32 levels" in res.json()["fields"]["body"]


@pytest.mark.parametrize("depth", [33, 5000])
def test_the_serving_parser_refuses_a_deeply_nested_body(api, db, depth):
    body = '{"model": "coord-model", "input": {"a": ' + "[" * depth + "]" * depth + "}}"
    res = api.generic("POST", "/api/v1/neural/predict", body, content_type="application/json")
    assert res.status_code == 400, res.content
    assert "body" in res.json()["fields"]


def test_it_counts_levels_of_lists_and_objects():
    assert not deeper_than(1, 0) and not deeper_than({"a": [1, {"b": 2}]}, 3)
    assert deeper_than({"a": [1, {"b": []}]}, 3) and deeper_than([[[]]], 2)
