"""Whole-number query parameters (neural/api/params.py): out of range is a 400 naming it."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "query, field",
    [
        ("logs?after=9223372036854775808", "after"),
        ("logs?after=-1", "after"),
        ("logs?after=abc", "after"),
        ("metrics?max_points=9223372036854775808", "max_points"),
        ("metrics?max_points=1", "max_points"),
        ("metrics?max_points=" + "9" * 5000, "max_points"),
    ],
)
def test_it_names_a_bad_whole_number(api, trained, query, field):
    res = api.get(f"/api/v1/neural/train/{trained.pk}/{query}")
    assert res.status_code == 400 and set(res.json()["fields"]) == {field}, res.content


def test_it_reads_good_ones(api, trained):
    logs = api.get(f"/api/v1/neural/train/{trained.pk}/logs?after=9223372036854775807").json()
    assert logs["lines"] == []
    metrics = api.get(f"/api/v1/neural/train/{trained.pk}/metrics?max_points=4").json()
    assert all(len(points) <= 4 * 4 for points in metrics["series"].values())  # M4: four per bucket
