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


BINARY_THRESHOLD = 0.5  # a binary classifier predicts its second class (sorted) when P(it) > 0.5


def per_class_metrics(y_true: np.ndarray, y_pred: np.ndarray, classes: list) -> dict:
    """Per-class figures, each class one-vs-rest: precision, detection rate (recall), false-positive
    rate (FP / (FP + TN)), F1 and support; for two classes, the decision threshold.

    Args:
        y_true: true labels as class indices.
        y_pred: predicted labels as class indices.
        classes: the class labels, in index order.

    Returns:
        ``{"classes": [{class, support, precision, recall, false_positive_rate, f1}], "threshold":
        {positive_class, probability} or None}``. A figure whose denominator is zero (a class never
        predicted has no precision, one absent from the truth no recall) is None.
    """
    labels = list(range(len(classes)))
    cm = skm.confusion_matrix(y_true, y_pred, labels=labels)
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=np.nan
    )
    predicted, actual, hits = cm.sum(axis=0), cm.sum(axis=1), np.diag(cm)
    false_pos = predicted - hits
    true_neg = cm.sum() - predicted - actual + hits
    rows = [
        {
            "class": str(label),
            "support": int(support[i]),
            "precision": _finite(precision[i]),
            "recall": _finite(recall[i]),
            "false_positive_rate": _finite(false_pos[i] / (false_pos[i] + true_neg[i]))
            if false_pos[i] + true_neg[i]
            else None,
            "f1": _finite(f1[i]),
        }
        for i, label in enumerate(classes)
    ]
    threshold = None
    if len(classes) == 2:
        threshold = {"positive_class": str(classes[1]), "probability": BINARY_THRESHOLD}
    return {"classes": rows, "threshold": threshold}


def per_class_from_confusion(matrix: list[list[int]], classes: list) -> dict:
    """``per_class_metrics`` of a stored confusion matrix (rows: truth, columns: predicted)."""
    cm = np.asarray(matrix, dtype=np.int64)
    if cm.shape != (len(classes), len(classes)):
        raise ValueError(f"a {cm.shape} confusion matrix for {len(classes)} classes")
    k = len(classes)
    y_true = np.repeat(np.repeat(np.arange(k), k), cm.ravel())
    y_pred = np.repeat(np.tile(np.arange(k), k), cm.ravel())
    return per_class_metrics(y_true, y_pred, classes)


def _finite(value: float) -> float | None:
    return None if np.isnan(value) else float(value)
