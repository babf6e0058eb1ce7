"""Scores for a whole batch equal the per-row scores."""

from __future__ import annotations

import numpy as np
import pytest

from neural.serving.scores import score_column, score_for


@pytest.mark.parametrize(
    ("pattern", "keys"),
    [
        ("coordination", ["False", "True"]),
        ("security", ["benign", "malicious"]),
        ("security", ["critical", "high", "low", "medium"]),
        ("security", ["a", "b", "c"]),
        ("optimization", ["cpu", "io", "none"]),
        ("prediction", ["False", "True"]),
    ],
)
def test_the_batch_scores_equal_the_row_scores(pattern, keys):
    rng = np.random.default_rng(4)
    proba = rng.dirichlet(np.ones(len(keys)), size=300)
    rows = np.round(proba, 6).tolist()
    expected = [score_for(pattern, dict(zip(keys, p, strict=True))) for p in rows]
    got = score_column(pattern, keys, rows)
    if expected[0] is None:
        assert got is None and set(expected) == {None}
    else:
        assert got == expected
