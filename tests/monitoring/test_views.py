"""Bad query parameters on the monitoring reads: a 400 naming the parameter, never a 500."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "query, field",
    [
        ("drift/history?model=coord-model&limit=abc", "limit"),
        ("drift/history?model=coord-model&limit=-5", "limit"),
        ("drift/history?model=coord-model&limit=0", "limit"),
        ("drift/history?model=coord-model&limit=9223372036854775808", "limit"),
        ("accuracy?model=coord-model&timeframe=99999999999d", "timeframe"),
        ("accuracy?model=coord-model&timeframe=999999999d", "timeframe"),
        ("accuracy?model=coord-model&bucket=99999999999w", "bucket"),
        ("drift?model=coord-model&window=99999999999d", "window"),
        ("drift?model=coord-model&window=" + "9" * 5000 + "s", "window"),
    ],
)
def test_it_names_a_bad_parameter(api, trained, query, field):
    res = api.get(f"/api/v1/neural/{query}")
    assert res.status_code == 400, res.content
    assert set(res.json()["fields"]) == {field}, res.json()


def test_it_reads_the_longest_allowed_spans(api, trained):
    assert api.get("/api/v1/neural/accuracy?model=coord-model&timeframe=3650d").status_code == 200
    assert api.get("/api/v1/neural/drift/history?model=coord-model&limit=1000").status_code == 200
