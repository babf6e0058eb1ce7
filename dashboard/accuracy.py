"""One meaning per word: which accuracy a page shows, named for what it is.

- validation accuracy: the best epoch's score on the validation split (``metrics.val_accuracy``)
- test accuracy: the held-out test split, scored once after training (``test_metrics.accuracy``)
- live accuracy: the share of predictions that feedback labels say were right, over the last
  ``LIVE_DAYS`` days (the same window as the monitoring charts)
- estimated accuracy: the calibrated confidence of unlabelled predictions (monitoring charts)
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from neural.monitoring.overview import TREND_DAYS
from neural.registry.selectors import version_live_accuracy

LIVE_DAYS = TREND_DAYS


def live_accuracy(versions: list) -> dict[int, dict]:
    """Per version id: {predictions, feedback, accuracy} over the last LIVE_DAYS days."""
    versions = [v for v in versions if v is not None]
    if not versions:
        return {}
    return version_live_accuracy(versions=versions, since=timezone.now() - timedelta(days=LIVE_DAYS))


def version_scores(version) -> dict:
    """The version's stored accuracies, each under its own name (None when not recorded)."""
    if version is None:
        return {"validation": None, "test": None}
    return {"validation": version.metrics.get("val_accuracy"), "test": version.test_metrics.get("accuracy")}


def activation_drop(version, active) -> dict | None:
    """When ``version`` scores worse than the ``active`` one: what, both scores and by how much.

    Compares held-out test accuracy when both have one, else validation accuracy (R² for
    regression); None when it is not worse or there is nothing to compare.
    """
    if version is None or active is None or version.pk == active.pk:
        return None
    for label, read in (
        ("test accuracy", lambda v: v.test_metrics.get("accuracy")),
        ("validation accuracy", lambda v: v.metrics.get("val_accuracy")),
        ("test R²", lambda v: v.test_metrics.get("r2")),
        ("validation R²", lambda v: v.metrics.get("val_r2")),
    ):
        mine, theirs = read(version), read(active)
        if isinstance(mine, int | float) and isinstance(theirs, int | float):
            if mine >= theirs:
                return None
            return {
                "metric": label,
                "version": version,
                "active": active,
                "score": mine,
                "active_score": theirs,
                "drop": theirs - mine,
            }
    return None
