"""Reads for cross-validations: list, one with its folds, the report every surface shows, and the
out-of-fold predictions as CSV."""

from __future__ import annotations

import csv
import io

from neural.engine.schema import TaskKind
from neural.errors import NotFound
from neural.training.models import CrossValidation, TrainingSession


def cross_validation_list():
    """Cross-validations, newest first, with their data set."""
    return CrossValidation.objects.select_related("dataset", "model_version__model")


def cross_validation_get(*, cv_id: int) -> CrossValidation:
    cv = cross_validation_list().filter(pk=cv_id).first()
    if cv is None:
        raise NotFound(f"cross-validation {cv_id} does not exist", field="cross_validation")
    return cv


def primary_metric(task: str) -> str:
    """The figure a cross-validation is read by: accuracy for classes, R² for numbers."""
    return "accuracy" if TaskKind(task).is_classification else "r2"


def cross_validation_report(*, cv: CrossValidation) -> dict:
    """Everything about a cross-validation, folds side by side; the API's detail, the CLI's
    --json and the page's data."""
    folds = list(cv.fold_rows.order_by("index").defer("predictions"))
    trained = TrainingSession.objects.filter(config__cross_validation_id=cv.pk).order_by("created_at")
    return {
        "cross_validation_id": cv.pk,
        "status": cv.status,
        "dataset": str(cv.dataset),
        "pattern": cv.pattern,
        "model_name": cv.model_name,
        "model_version": str(cv.model_version) if cv.model_version_id else None,
        "task": cv.task,
        "method": cv.method,
        "folds": cv.folds,
        "stratified": cv.stratified,
        "group_column": cv.group_column or None,
        "time_column": cv.time_column or None,
        "seed": cv.seed,
        "rows": cv.rows,
        "config": cv.config,
        "metric": primary_metric(cv.task),
        "summary": cv.summary,
        "fold_results": [
            {
                "fold": f.index + 1,
                "status": f.status,
                "train_rows": f.train_rows,
                "test_rows": f.test_rows,
                "epoch": f.epoch,
                "best_epoch": f.best_epoch,
                "metrics": f.metrics,
                "seconds": f.seconds,
                "ran_in": f.ran_in,
                "error": f.error or None,
            }
            for f in folds
        ],
        "sessions": [{"session_id": s.pk, "status": s.status, "model_name": s.model_name} for s in trained],
        "error": cv.error or None,
        "created_at": cv.created_at,
        "started_at": cv.started_at,
        "finished_at": cv.finished_at,
    }


def cross_validation_predictions_csv(*, cv: CrossValidation) -> str:
    """Out-of-fold predictions, one line per held-out row in row order: the data set's row number,
    its fold (1-based), the true value, the prediction and, for classes, one probability column
    per class (``p_<class>``, every class any fold knew)."""
    folds = list(cv.fold_rows.filter(status="succeeded").order_by("index"))
    # A fold whose training rows lacked a class cannot predict it: its probability there is 0.
    classes = sorted(set().union(*(f.predictions.get("classes") or [] for f in folds)))
    rows = []
    for f in folds:
        p = f.predictions
        probabilities = p.get("probabilities") or [None] * len(p["row"])
        fold_classes = p.get("classes") or []
        for row, truth, prediction, probs in zip(p["row"], p["truth"], p["prediction"], probabilities, strict=True):
            by_class = dict(zip(fold_classes, probs or [], strict=False))
            rows.append([row, f.index + 1, truth, prediction, *[by_class.get(c, 0.0) for c in classes]])
    rows.sort(key=lambda r: r[0])
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["row", "fold", "truth", "prediction", *[f"p_{c}" for c in classes]])
    writer.writerows(rows)
    return out.getvalue()
