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


@pytest.mark.parametrize("field", ["consecutive", "window_s", "min_count", "cooldown_s"])
def test_it_refuses_an_alert_rule_number_past_its_column(api, trained, field):
    body = {"model": "coord-model", "kind": "accuracy_below", field: 2**31}
    res = api.post("/api/v1/neural/alert-rules", body, format="json")
    assert res.status_code == 400 and set(res.json()["fields"]) == {field}, res.content


def test_it_takes_a_huge_finite_threshold(api, trained):
    body = {"model": "coord-model", "kind": "latency_p99_above", "threshold": 1e308}
    assert api.post("/api/v1/neural/alert-rules", body, format="json").status_code == 201


@pytest.mark.parametrize("threshold", ["0", "1"])
def test_it_refuses_a_drift_test_level_of_0_or_1(api, trained, threshold):
    res = api.get(f"/api/v1/neural/drift?model=coord-model&threshold={threshold}")
    assert res.status_code == 400 and set(res.json()["fields"]) == {"threshold"}, res.content
