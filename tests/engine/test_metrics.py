from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from neural.engine.metrics import classification_metrics, per_class_from_confusion, per_class_metrics


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


def test_per_class_figures_of_a_hand_checked_binary_matrix():
    # Truth "benign" 60 rows: 50 right, 10 called malicious; truth "malicious" 40 rows: 35 right, 5 missed.
    got = per_class_from_confusion([[50, 10], [5, 35]], ["benign", "malicious"])
    benign, malicious = got["classes"]
    assert malicious == {
        "class": "malicious",
        "support": 40,
        "precision": pytest.approx(35 / 45),
        "recall": pytest.approx(35 / 40),  # the detection rate
        "false_positive_rate": pytest.approx(10 / 60),  # benign rows called malicious
        "f1": pytest.approx(2 * 35 / (2 * 35 + 10 + 5)),
    }
    assert benign["precision"] == pytest.approx(50 / 55) and benign["false_positive_rate"] == pytest.approx(5 / 40)
    assert got["threshold"] == {"positive_class": "malicious", "probability": 0.5}


def test_per_class_figures_of_three_classes_one_never_seen():
    # Rows: truth a, b, c; columns: predicted. Class c is neither in the truth nor predicted.
    got = per_class_from_confusion([[3, 1, 0], [2, 4, 0], [0, 0, 0]], ["a", "b", "c"])
    a, b, c = got["classes"]
    assert (a["precision"], a["recall"], a["false_positive_rate"]) == pytest.approx((3 / 5, 3 / 4, 2 / 6))
    assert (b["precision"], b["recall"], b["false_positive_rate"]) == pytest.approx((4 / 5, 4 / 6, 1 / 4))
    assert c == {"class": "c", "support": 0, "precision": None, "recall": None, "false_positive_rate": 0.0, "f1": None}
    assert got["threshold"] is None


def test_per_class_figures_match_scikit_learn_on_labels():
    rng = np.random.default_rng(4)
    y, pred = rng.integers(0, 4, 300), rng.integers(0, 4, 300)
    got = per_class_metrics(y, pred, ["w", "x", "y", "z"])
    precision, recall, _, support = skm.precision_recall_fscore_support(y, pred, labels=[0, 1, 2, 3])
    assert [r["precision"] for r in got["classes"]] == pytest.approx(precision)
    assert [r["recall"] for r in got["classes"]] == pytest.approx(recall)
    assert [r["support"] for r in got["classes"]] == support.tolist()
    fpr = [((pred == k) & (y != k)).sum() / (y != k).sum() for k in range(4)]
    assert [r["false_positive_rate"] for r in got["classes"]] == pytest.approx(fpr)
    assert got == per_class_from_confusion(skm.confusion_matrix(y, pred).tolist(), ["w", "x", "y", "z"])
