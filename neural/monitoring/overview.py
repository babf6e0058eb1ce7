"""Reads behind the overview page and `neural dashboard`: per active model, the accuracy trend
against its pattern's target, drift per feature over time, firing alerts, running trainings."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from django.utils import timezone

from neural.datasets.models import PATTERN_TARGETS
from neural.monitoring.alerts import alert_payload
from neural.monitoring.models import Alert
from neural.monitoring.selectors import accuracy_buckets, drift_history
from neural.registry.models import ModelVersion
from neural.training.models import TrainingSession

TREND_DAYS = 14


def _weighted(buckets: list[dict], key: str, weight: str) -> float | None:
    pairs = [(b[key], b[weight]) for b in buckets if b[key] is not None and b[weight]]
    if not pairs:
        return None
    values, weights = np.array(pairs, dtype=float).T
    return round(float(np.average(values, weights=weights)), 6)


def _mean(buckets: list[dict], key: str) -> float | None:
    values = [b[key] for b in buckets if b[key] is not None]
    return round(float(np.mean(values)), 6) if values else None


def model_overview(version: ModelVersion, *, now=None) -> dict:
    now = now or timezone.now()
    model = version.model
    trend = accuracy_buckets(model=model, timeframe=timedelta(days=TREND_DAYS), bucket=timedelta(days=1), now=now)
    active = [b for b in trend["buckets"] if b["version"] == version.label]
    drift = drift_history(version=version, limit=30)
    return {
        "name": model.name,
        "version": version.label,
        "pattern": model.pattern,
        "task": version.task,
        "target": PATTERN_TARGETS.get(model.pattern),
        "accuracy": _weighted(active, "accuracy", "count"),
        "estimated_accuracy": _mean(active, "estimated_accuracy"),
        "drift_score": drift[-1].drift_score if drift else None,
        "trend": trend["buckets"],
        "drift": [
            {
                "window_end": r.window_end.isoformat(),
                "drift_score": r.drift_score,
                "features": {e["name"]: e["value"] for e in r.features if e["method"] == "psi"},
            }
            for r in drift
        ],
    }


def overview_summary(*, now=None) -> dict:
    versions = ModelVersion.objects.filter(is_active=True).select_related("model").order_by("model__name")
    open_alerts = Alert.objects.exclude(status=Alert.Status.RESOLVED).select_related("model", "rule")[:50]
    running = TrainingSession.objects.filter(
        status__in=[TrainingSession.Status.QUEUED, TrainingSession.Status.RUNNING]
    ).order_by("-created_at")[:25]
    return {
        "models": [model_overview(v, now=now) for v in versions],
        "alerts": [alert_payload(a) for a in open_alerts],
        "trainings": [
            {"id": s.pk, "model_name": s.model_name, "status": s.status, "epoch": s.epoch, "epochs": s.epochs}
            for s in running
        ],
    }
