"""Scoring a predictor on labelled rows: the one scorer behind ``neural validate``, the retraining
rule's comparison on hold-out rows, the robustness report (clean, perturbed and attacked rows) and
any later cross-validation."""

from __future__ import annotations

import numpy as np
import pandas as pd

from neural.engine.errors import DataError
from neural.engine.metrics import classification_metrics, regression_metrics
from neural.engine.predictor import TabularPredictor


def primary_metric(predictor: TabularPredictor) -> str:
    """The metric a version is judged by: ``accuracy`` for a classifier, ``r2`` for a regression."""
    return "accuracy" if predictor.encoder.task.is_classification else "r2"


def score_frame(predictor: TabularPredictor, frame: pd.DataFrame, target: str) -> dict[str, float]:
    """Metrics of ``predictor`` on the rows of ``frame`` that have a ``target`` value.

    Classification: ``accuracy`` over every labelled row (a label the model does not know is a
    wrong answer), ``macro_f1`` and, for two classes, ``roc_auc`` over the rows whose label it
    knows. Regression: ``r2`` and ``mae`` in the target's units. Missing feature values (NaN)
    are missing values, as in a JSON request.

    Raises:
        DataError: a feature column or the target is missing, no row is labelled, or (a
            classifier) none of the labels is a class the model knows (field ``data``).
    """
    missing = [c for c in [*predictor.feature_names, target] if c not in frame.columns]
    if missing:
        raise DataError(f"the data lack the model's column(s) {', '.join(missing)}", field="data")
    frame = frame[frame[target].notna()]
    if frame.empty:
        raise DataError(f"no row has a value in {target!r}", field="data")
    results = predictor.predict_frame(frame[predictor.feature_names])
    if not predictor.encoder.task.is_classification:
        return score_predictions(predictor, frame[target], np.array([r["prediction"] for r in results]))
    classes = predictor.encoder.classes_
    return score_predictions(
        predictor, frame[target], np.array([[r["probabilities"][str(c)] for c in classes] for r in results])
    )


def score_predictions(predictor: TabularPredictor, truth: pd.Series, predicted: np.ndarray) -> dict[str, float]:
    """``score_frame``'s metrics of predictions already made for labelled rows (``truth`` has no
    missing value): class probabilities (one column per class, in the encoder's order) for a
    classifier, values in the target's units for a regression.

    Raises:
        DataError: (a classifier) none of the labels is a class the model knows (field ``data``).
    """
    encoder = predictor.encoder
    if not encoder.task.is_classification:
        return regression_metrics(truth.to_numpy(dtype=float), np.asarray(predicted, dtype=float))
    index = {str(label): i for i, label in enumerate(encoder.classes_)}
    y = truth.astype(str).map(index)
    known = y.notna().to_numpy()
    if not known.any():
        raise DataError("none of the labels are classes the model knows", field="data")
    metrics = classification_metrics(y[known].to_numpy(dtype=int), predicted[known])
    metrics["accuracy"] = float(metrics["accuracy"] * known.sum() / len(known))  # unknown labels are wrong
    return metrics
