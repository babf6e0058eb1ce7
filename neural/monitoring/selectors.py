"""Reads for monitoring: accuracy per time bucket and version, drift history, alerts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
from django.db.models import Count, F, Q
from django.utils import timezone

from neural.engine.calibration import calibrated_accuracy
from neural.errors import DataError
from neural.monitoring.models import Alert, AlertRule, DriftReport, Feedback, ReferenceProfile
from neural.registry.models import ModelVersion
from neural.serving.models import PredictionLog
from neural.serving.selectors import version_prediction_counts


def prediction_confidence(output: dict) -> float:
    """Top-class probability of a logged classifier answer (NaN for regression)."""
    probabilities = output.get("probabilities")
    return max(probabilities.values()) if probabilities else float("nan")


def prediction_frame(*, versions, start, end) -> pd.DataFrame:
    """One row per logged prediction of ``versions`` in [start, end): time, version, confidence,
    and the label's verdict when feedback arrived."""
    rows = PredictionLog.objects.filter(model_version__in=versions, created_at__gte=start, created_at__lt=end)
    values = list(
        rows.values_list(
            "created_at", "model_version_id", "output", "feedback__id", "feedback__correct", "feedback__abs_error"
        )
    )
    frame = pd.DataFrame(values, columns=["created_at", "version_id", "output", "feedback", "correct", "abs_error"])
    frame["labelled"] = frame["feedback"].notna()
    frame["confidence"] = [prediction_confidence(o) for o in frame["output"]]
    return frame.drop(columns=["output", "feedback"])


def _calibrations(version_ids) -> dict[int, dict]:
    return dict(
        ReferenceProfile.objects.filter(model_version_id__in=version_ids).values_list("model_version_id", "calibration")
    )


def with_estimates(frame: pd.DataFrame) -> pd.DataFrame:
    """Adds ``p_correct``: each classifier prediction's calibrated chance of being right."""
    frame = frame.copy()
    frame["p_correct"] = np.nan
    for version_id, calibration in _calibrations(frame["version_id"].unique().tolist()).items():
        mask = (frame["version_id"] == version_id).to_numpy() & np.isfinite(frame["confidence"].to_numpy(float))
        if mask.any():
            frame.loc[mask, "p_correct"] = calibrated_accuracy(
                calibration, frame.loc[mask, "confidence"].to_numpy(float)
            )
    return frame


def accuracy_buckets(*, model, timeframe: timedelta, bucket: timedelta, now=None) -> dict:
    """Realised accuracy (MAE for regression) and estimated accuracy per bucket and version.

    Buckets are aligned to multiples of their width and cover ``timeframe`` up to ``now``; a
    prediction belongs to the bucket of the time it was
    made, so a label that arrives late still lands where the prediction did. ``count`` is the
    number of labels behind ``accuracy``; ``predictions`` the number behind the estimate.
    """
    end = now or timezone.now()
    width = bucket.total_seconds()
    # Buckets sit on whole multiples of their width (midnight UTC for 1d), so two reads agree.
    start = datetime.fromtimestamp((end - timeframe).timestamp() // width * width, tz=UTC)
    versions = {v.pk: v for v in model.versions.all()}
    frame = with_estimates(prediction_frame(versions=list(versions), start=start, end=end))
    if frame.empty:
        return {"model": model.name, "buckets": []}
    seconds = (frame["created_at"] - start).dt.total_seconds().to_numpy()
    frame["bucket"] = (seconds // bucket.total_seconds()).astype(int)
    frame["correct_f"] = frame["correct"].astype(float)
    frame["abs_error_f"] = frame["abs_error"].astype(float)
    grouped = frame.groupby(["bucket", "version_id"], sort=True).agg(
        count=("labelled", "sum"),
        predictions=("labelled", "size"),
        accuracy=("correct_f", "mean"),
        mae=("abs_error_f", "mean"),
        estimated=("p_correct", "mean"),
    )
    buckets = []
    for (index, version_id), row in grouped.iterrows():  # one row per (bucket, version), not per prediction
        version = versions[version_id]
        entry = {
            "start": (start + bucket * index).isoformat(),
            "end": (start + bucket * (index + 1)).isoformat(),
            "version": version.label,
            "count": int(row["count"]),
            "accuracy": _num(row["accuracy"]),
            "estimated_accuracy": _num(row["estimated"]),
        }
        if version.task == "regression":
            entry["mae"] = _num(row["mae"])
        buckets.append(entry)
    return {"model": model.name, "buckets": buckets}


def _num(value) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), 6)


def drift_history(*, version, limit: int = 30) -> list[DriftReport]:
    return list(DriftReport.objects.filter(model_version=version).order_by("-window_end")[:limit])[::-1]


def alert_list(*, status: str | None = None, model=None):
    alerts = Alert.objects.select_related("model", "rule").order_by("-fired_at")
    if status:
        alerts = alerts.filter(status=status)
    if model is not None:
        alerts = alerts.filter(model=model)
    return alerts


ALERT_SORTS = {
    "id": "id",
    "model": "model__name",
    "rule": "rule__kind",
    "state": "status",
    "fired_at": "fired_at",
    "value": "value",
    "resolved_at": "resolved_at",
    "acknowledged_at": "acknowledged_at",
}


def alert_history(*, model: str = "", rule: str = "", state: str = "", q: str = "", sort: str = "-fired_at"):
    """Every alert, open or resolved, for the alerts table: filtered, sorted, one query a page.

    ``state`` is a status, or ``open`` (firing or acknowledged). Bad values are a ``DataError``
    naming the parameter.
    """
    states = [*Alert.Status.values, "open"]
    if state and state not in states:
        raise DataError(f"state must be one of {', '.join(states)}", field="state")
    if rule and rule not in AlertRule.Kind.values:
        raise DataError(f"rule must be one of {', '.join(AlertRule.Kind.values)}", field="rule")
    if sort.lstrip("-") not in ALERT_SORTS:
        raise DataError(f"sort must be one of {', '.join(ALERT_SORTS)}, optionally with a leading -", field="sort")
    qs = Alert.objects.select_related("model", "rule", "acknowledged_by")
    if model:
        qs = qs.filter(model__name=model)
    if rule:
        qs = qs.filter(rule__kind=rule)
    if state == "open":
        qs = qs.exclude(status=Alert.Status.RESOLVED)
    elif state:
        qs = qs.filter(status=state)
    if q:
        qs = qs.filter(Q(message__icontains=q) | Q(model__name__icontains=q))
    key = F(ALERT_SORTS[sort.lstrip("-")])
    descending = sort.startswith("-")
    order = key.desc(nulls_last=True) if descending else key.asc(nulls_last=True)
    return qs.order_by(order, "-id" if descending else "id")


def open_alerts_by_model(*, model_ids) -> dict[int, list[Alert]]:
    """Firing and acknowledged alerts per model id, newest first (for the models' pages)."""
    out: dict[int, list[Alert]] = {}
    rows = Alert.objects.filter(model_id__in=model_ids).exclude(status=Alert.Status.RESOLVED)
    for alert in rows.select_related("rule").order_by("-fired_at"):
        out.setdefault(alert.model_id, []).append(alert)
    return out


def version_live_accuracy(*, versions: list[ModelVersion], since=None) -> dict[int, dict]:
    """Per version: predictions answered, predictions with feedback, and the share correct.

    Reads serving's prediction log and the Feedback rows (``correct`` is set for
    classifiers); ``accuracy`` is None until feedback arrives.
    """
    counts = version_prediction_counts(versions=versions, since=since)
    rows = Feedback.objects.filter(prediction__model_version__in=versions)
    if since is not None:
        rows = rows.filter(prediction__created_at__gte=since)
    graded = {
        r["prediction__model_version"]: r
        for r in rows.values("prediction__model_version").annotate(
            n=Count("pk", filter=Q(correct__isnull=False)), ok=Count("pk", filter=Q(correct=True))
        )
    }
    out = {}
    for v in versions:
        g = graded.get(v.pk, {"n": 0, "ok": 0})
        out[v.pk] = {
            "predictions": counts.get(v.pk, 0),
            "feedback": g["n"],
            "accuracy": g["ok"] / g["n"] if g["n"] else None,
        }
    return out
