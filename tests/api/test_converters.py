"""Row ids in URLs past what the database holds: no such object (404), never a 500."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/neural/train/9223372036854775808",
        "/api/v1/neural/train/99999999999999999999999/status",
        "/api/v1/neural/datasets/9223372036854775808",
        "/api/v1/neural/searches/9223372036854775808",
    ],
)
def test_it_answers_404_for_an_id_past_bigint(api, db, url):
    assert api.get(url).status_code == 404


def test_it_still_finds_the_largest_id(api, db):
    res = api.post("/api/v1/neural/alerts/9223372036854775807/acknowledge")
    assert res.status_code == 404 and res.json()["fields"] == {"alert": "alert 9223372036854775807 does not exist"}
