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
from neural.monitoring.selectors import version_live_accuracy

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
