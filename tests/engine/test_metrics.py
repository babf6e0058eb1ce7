from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from neural.engine.metrics import classification_metrics


@pytest.mark.parametrize("k", [2, 3, 5])
def test_it_matches_scikit_learn_on_random_and_tied_scores(k):
    rng = np.random.default_rng(k)
    for _ in range(200):
        n = int(rng.integers(2, 60))
        y = rng.integers(0, k, n)
        proba = rng.dirichlet(np.ones(k), n).round(int(rng.integers(1, 4)))  # rounding makes ties
        ours = classification_metrics(y, proba)
        pred = proba.argmax(axis=1)
        assert ours["accuracy"] == pytest.approx(skm.accuracy_score(y, pred), abs=1e-12)
        assert ours["macro_f1"] == pytest.approx(skm.f1_score(y, pred, average="macro", zero_division=0), abs=1e-12)
        if k == 2 and len(np.unique(y)) == 2:
            assert ours["roc_auc"] == pytest.approx(skm.roc_auc_score(y, proba[:, 1]), abs=1e-12)
        else:
            assert "roc_auc" not in ours
