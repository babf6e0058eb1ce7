"""Reads for serving: the prediction log."""

from __future__ import annotations

from django.db.models import Count

from neural.registry.models import ModelVersion
from neural.serving.models import PredictionLog


def version_prediction_counts(*, versions: list[ModelVersion], since=None) -> dict[int, int]:
    """Predictions answered per version (from the prediction log), optionally since a time."""
    rows = PredictionLog.objects.filter(model_version__in=versions)
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    return dict(rows.values_list("model_version").annotate(n=Count("id")).values_list("model_version", "n"))
