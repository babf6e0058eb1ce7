"""Metrics as pure functions over numpy arrays (labels as class indices)."""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata
from sklearn import metrics as skm


def classification_metrics(y_true: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """Accuracy, macro-F1 and, for two classes, ROC-AUC.

    The same values as scikit-learn's ``accuracy_score``, ``f1_score(average="macro",
    zero_division=0)`` and ``roc_auc_score``, from one confusion matrix and one ranking: the
    trainer calls this after every epoch, where scikit-learn's input validation costs ~5 ms.
    """
    k = proba.shape[1]
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = proba.argmax(axis=1)
    cm = np.bincount(y_true * k + y_pred, minlength=k * k).reshape(k, k)
    tp = np.diag(cm).astype(np.float64)
    denom = cm.sum(axis=0) + cm.sum(axis=1)
    seen = denom > 0  # labels present in the truth or the predictions, as scikit-learn counts them
    out = {
        "accuracy": float(tp.sum() / len(y_true)),
        "macro_f1": float((2 * tp[seen] / denom[seen]).mean()) if seen.any() else 0.0,
    }
    if k == 2:
        positive = y_true == 1
        n_pos = int(positive.sum())
        n_neg = len(y_true) - n_pos
        if n_pos and n_neg:
            # Mann-Whitney U with average ranks for ties, which is exactly the ROC-AUC.
            ranks = rankdata(proba[:, 1])
            out["roc_auc"] = float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
    return out


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """R² and MAE, in the target's own units."""
    return {
        "r2": float(skm.r2_score(y_true, y_pred)),
        "mae": float(skm.mean_absolute_error(y_true, y_pred)),
    }


def confusion(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> list[list[int]]:
    return skm.confusion_matrix(y_true, y_pred, labels=list(range(n_classes))).tolist()
