"""A NUL character in a URL or a query parameter: a 400 naming it, never a 500 from the database."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "url, field",
    [
        ("/api/v1/neural/accuracy?model=a%00", "model"),
        ("/api/v1/neural/drift?model=a%00", "model"),
        ("/api/v1/neural/train?status=a%00", "status"),
        ("/api/v1/neural/alerts?model=a%00", "model"),
        ("/api/v1/neural/models/a%00", "path"),
    ],
)
def test_it_refuses_a_nul_in_the_url(api, db, url, field):
    res = api.get(url)
    assert res.status_code == 400 and "NUL" in res.json()["fields"][field], res.content


@pytest.mark.parametrize(
    "url, body",
    [
        ("/api/v1/neural/predict", {"model": "a\x00", "input": {}}),
        ("/api/v1/neural/predict", {"model": "coord-model", "input": {"task_type": "code\x00"}}),
        ("/api/v1/neural/predict/batch", {"model": "coord-model", "inputs": [{"a\x00": 1}]}),
        ("/api/v1/neural/train", {"pattern_type": "coordination", "training_data": "coord", "config": {"a\x00": 1}}),
    ],
)
def test_it_refuses_a_nul_in_a_json_body(api, db, url, body):
    res = api.post(url, body, format="json")
    assert res.status_code == 400 and "NUL" in res.json()["fields"]["body"], res.content
