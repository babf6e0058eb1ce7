"""Reads for cross-validations: list, one with its folds, the report every surface shows, and the
out-of-fold predictions as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

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


def cross_validation_predictions_csv(*, cv: CrossValidation) -> Iterator[str]:
    """Out-of-fold predictions as CSV lines, fold after fold (one fold's predictions in memory at a
    time), rows in order within each: the data set's row number, the fold (1-based), the true
    value, the prediction and, for classes, one probability column per class (``p_<class>``,
    every class any fold knew; a fold whose training rows lacked a class has 0 there)."""
    done = cv.fold_rows.filter(status="succeeded").order_by("index")
    known = done.values_list("predictions__classes", flat=True)
    classes = sorted(set().union(*(c or [] for c in known)))
    yield _csv_line(["row", "fold", "truth", "prediction", *[f"p_{c}" for c in classes]])
    for index in done.values_list("index", flat=True):
        p = done.get(index=index).predictions
        probabilities = p.get("probabilities") or [None] * len(p["row"])
        fold_classes = p.get("classes") or []
        lines = []
        for row, truth, prediction, probs in zip(p["row"], p["truth"], p["prediction"], probabilities, strict=True):
            by_class = dict(zip(fold_classes, probs or [], strict=False))
            lines.append(_csv_line([row, index + 1, truth, prediction, *[by_class.get(c, 0.0) for c in classes]]))
        yield "".join(lines)


def _csv_line(values: list) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(values)
    return out.getvalue()
