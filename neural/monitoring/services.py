"""Writes for monitoring: ground-truth feedback, reference profiles, drift windows.

Alerts live in :mod:`neural.monitoring.alerts`, retraining in :mod:`neural.monitoring.retraining`.
"""

from __future__ import annotations

import math
import re
import uuid
from datetime import timedelta

import pandas as pd
from celery import current_app
from django.db import transaction
from django.utils import timezone

from neural.engine.calibration import fit_calibration, validation_confidences
from neural.engine.drift import build_profile, compare, drift_score
from neural.errors import DataError, InputValidationError, NotFound
from neural.monitoring.models import DriftReport, Feedback, ReferenceProfile
from neural.registry.models import RegisteredModel
from neural.serving.models import PredictionLog
from photondrift.realtime import DASHBOARD_GROUP, AccuracyEvent, DriftEvent, broadcast

# The newest rows of a window that a drift check reads; more adds time, not information.
DRIFT_MAX_ROWS = 200_000
FEEDBACK_BULK_MAX = 10_000
_DURATION = re.compile(r"^([0-9]+)([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
# Longer spans than this reach before any prediction could exist (and past datetime's range).
MAX_DURATION = timedelta(days=3650)

EVALUATE_MODEL_TASK = "neural.monitoring.tasks.monitoring_evaluate_model_task"


def parse_duration(text: str, *, field: str) -> timedelta:
    """``30d``, ``12h``, ``15m``, ``1w``, ``90s`` -> timedelta; anything else is a DataError."""
    match = _DURATION.match(str(text).strip())
    if not match or not match.group(1).strip("0"):
        raise DataError(f"{str(text)[:40]!r} is not a duration like 30d, 12h, 15m or 1w", field=field)
    digits, unit = match.group(1).lstrip("0"), match.group(2)
    if len(digits) > 12 or int(digits) * _UNIT_SECONDS[unit] > MAX_DURATION.total_seconds():
        raise DataError(f"{str(text)[:40]!r} is longer than {MAX_DURATION.days}d", field=field)
    return timedelta(**{_UNITS[unit]: int(digits)})


def validate_fraction(value, *, field: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise DataError(f"{value!r} is not a number between 0 and 1", field=field) from None
    if isinstance(value, bool) or not math.isfinite(number) or not 0 <= number <= 1:
        raise DataError(f"{value!r} must be between 0 and 1", field=field)
    return number


# --- feedback -------------------------------------------------------------------------------


def _match_class(classes: list, actual) -> tuple[bool, object]:
    """The class label ``actual`` names, tolerating JSON/CSV spellings ("true", "1" for True)."""
    for label in classes:
        if isinstance(actual, str):
            if actual == str(label) or (isinstance(label, bool) and actual.strip().lower() == str(label).lower()):
                return True, label
        elif isinstance(actual, bool) == isinstance(label, bool) and actual == label:
            return True, label
    return False, None


def _judge(prediction: PredictionLog, actual) -> tuple[object, bool | None, float | None, str | None]:
    """(normalised actual, correct, abs_error, problem) for one label against one prediction."""
    version = prediction.model_version
    predicted = prediction.output.get("prediction")
    if version.task == "regression":
        if isinstance(actual, bool) or not isinstance(actual, (int, float)) or not math.isfinite(actual):
            return None, None, None, "must be a finite number (this model is a regression)"
        return float(actual), None, abs(float(predicted) - float(actual)), None
    if actual is None or isinstance(actual, (dict, list)):
        return None, None, None, f"must be one of the model's classes {version.classes}"
    found, label = _match_class(version.classes, actual)
    if not found:
        return None, None, None, f"{actual!r} is not one of the model's classes {version.classes}"
    return label, str(label) == str(predicted), None, None


def _parse_id(raw) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(raw))
    except (TypeError, ValueError, AttributeError):
        return None


@transaction.atomic
def feedback_record_bulk(*, items: list[dict], user=None, prefix: str = "items") -> list[Feedback]:
    """Store ground truth for many predictions: all of them, or none when any item is bad.

    A later label for the same prediction replaces the earlier one (late corrections count).

    Raises:
        InputValidationError: naming ``items[i].prediction_id`` / ``items[i].actual`` for each problem.
    """
    if not items:
        raise DataError("at least one feedback item is needed", field=prefix)
    if len(items) > FEEDBACK_BULK_MAX:
        raise DataError(f"{len(items)} items exceed the limit of {FEEDBACK_BULK_MAX}", field=prefix)
    problems: dict[str, str] = {}
    ids = [_parse_id(item.get("prediction_id")) if isinstance(item, dict) else None for item in items]
    found = PredictionLog.objects.select_related("model_version").in_bulk([i for i in ids if i])
    rows, now = [], timezone.now()
    for index, (item, pid) in enumerate(zip(items, ids, strict=True)):
        name = f"{prefix}[{index}]" if prefix else ""
        dot = f"{name}." if name else ""
        if not isinstance(item, dict) or "actual" not in item:
            problems[name or "actual"] = "expected an object with prediction_id and actual"
            continue
        if pid is None:
            problems[f"{dot}prediction_id"] = "must be the prediction_id (a UUID) a prediction returned"
            continue
        prediction = found.get(pid)
        if prediction is None:
            problems[f"{dot}prediction_id"] = f"no prediction {pid} was logged"
            continue
        actual, correct, abs_error, problem = _judge(prediction, item["actual"])
        if problem:
            problems[f"{dot}actual"] = problem
            continue
        rows.append(
            Feedback(
                prediction=prediction, actual=actual, correct=correct, abs_error=abs_error, user=user, received_at=now
            )
        )
    if problems:
        raise InputValidationError(problems)
    Feedback.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["prediction"],
        update_fields=["actual", "correct", "abs_error", "user", "received_at"],
    )
    model_ids = {row.prediction.model_version.model_id for row in rows}
    transaction.on_commit(lambda: _after_feedback(model_ids, len(rows)))
    return rows


def feedback_record(*, prediction_id, actual, user=None) -> Feedback:
    """One label; errors name ``prediction_id`` / ``actual`` directly."""
    return feedback_record_bulk(items=[{"prediction_id": prediction_id, "actual": actual}], user=user, prefix="")[0]


def _after_feedback(model_ids: set[int], count: int) -> None:
    for model in RegisteredModel.objects.filter(pk__in=model_ids):
        broadcast(DASHBOARD_GROUP, "monitoring.accuracy", AccuracyEvent(model=model.name, labels=count))
        # New labels can breach an accuracy rule: a worker evaluates this model's rules now.
        current_app.signature(EVALUATE_MODEL_TASK, args=(model.pk,)).delay()  # by name: tasks import services


# --- reference profiles ---------------------------------------------------------------------


def reference_profile_store(*, version, trained) -> ReferenceProfile:
    """Profile the training split's features and calibrate confidence on the validation split."""
    frames = trained.frames
    if "train" not in frames:
        raise DataError("the trained model carries no training split to profile", field="frames")
    confidence = correct = None
    val = frames.get("val")
    if trained.encoder.task.is_classification and val is not None and len(val):
        confidence, correct = validation_confidences(
            trained.network, trained.preprocessor, trained.encoder, val, trained.target
        )
    return _reference_save(version, build_profile(frames["train"], trained.preprocessor.features), confidence, correct)


def ensemble_reference_store(*, version, reference: dict) -> ReferenceProfile | None:
    """An ensemble's reference: its members' training rows profiled (``reference["train"]``,
    with ``features``) and its own validation confidences calibrated; when its members share no
    rows, the first member's stored profile (every member reads the same columns), uncalibrated."""
    if reference.get("train") is not None:
        profile = build_profile(reference["train"], reference["features"])
        return _reference_save(version, profile, reference.get("confidence"), reference.get("correct"))
    source = ReferenceProfile.objects.filter(model_version=reference["copy_from"]).first()
    if source is None:
        return None  # drift checks say so (NotFound) for this version, as for one registered before monitoring
    return _reference_save(version, source.profile, None, None)


def _reference_save(version, profile: dict, confidence, correct) -> ReferenceProfile:
    calibration = fit_calibration(confidence, correct) if confidence is not None and len(confidence) else {}
    reference, _ = ReferenceProfile.objects.update_or_create(
        model_version=version, defaults={"profile": profile, "calibration": calibration}
    )
    return reference


# --- drift ----------------------------------------------------------------------------------


def window_frame(*, version, start, end, max_rows: int = DRIFT_MAX_ROWS) -> pd.DataFrame:
    """The logged inputs of ``version`` in [start, end), newest first, as a DataFrame."""
    inputs = (
        PredictionLog.objects.filter(model_version=version, created_at__gte=start, created_at__lt=end)
        .order_by("-created_at")
        .values_list("inputs", flat=True)[:max_rows]
    )
    return pd.DataFrame.from_records(list(inputs))


def drift_check(*, version, window: timedelta, alpha: float = 0.05, now=None, store: bool = True) -> DriftReport:
    """Compare the last ``window`` of ``version``'s logged inputs with its reference profile.

    Raises:
        NotFound: the version has no reference profile (registered before monitoring existed).
    """
    alpha = validate_fraction(alpha, field="threshold")
    if not 0 < alpha < 1:  # a test at level 0 or 1 has an infinite or zero critical value
        raise DataError(f"{alpha!r} must be between 0 and 1, both excluded", field="threshold")
    reference = ReferenceProfile.objects.filter(model_version=version).first()
    if reference is None:
        raise NotFound(f"{version} has no reference profile; retrain it to start drift checks", field="model")
    end = now or timezone.now()
    start = end - window
    frame = window_frame(version=version, start=start, end=end)
    results = compare(reference.profile, frame, alpha=alpha)
    report = DriftReport(
        model_version=version,
        window_start=start,
        window_end=end,
        rows=len(frame),
        alpha=alpha,
        drift_score=round(drift_score(results), 6) if len(frame) else 0.0,
        drifted=bool(len(frame)) and any(r.drifted for r in results),
        features=[entry for r in results for entry in r.entries()],
    )
    if store:
        report.save()
        broadcast(
            DASHBOARD_GROUP,
            "monitoring.drift",
            DriftEvent(
                model=version.model.name,
                version=version.label,
                window_end=end.isoformat(),
                drift_score=report.drift_score,
                features={e["name"]: e["value"] for e in report.features if e["method"] == "psi"},
            ),
        )
    return report


def drift_report_document(report: DriftReport, *, window: str) -> dict:
    """The ``neural drift-detection --json`` / API shape."""
    version = report.model_version
    return {
        "model": version.model.name,
        "version": version.label,
        "window": window,
        "rows": report.rows,
        "drift_score": report.drift_score,
        "drifted": report.drifted,
        "features": report.features,
    }
