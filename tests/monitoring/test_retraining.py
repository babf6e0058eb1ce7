"""Retraining on a drift alert: a new version, judged on the same hold-out by the stated rule."""

from __future__ import annotations

import pytest

from neural.datasets.generator import generate
from neural.datasets.services import dataset_store_frame
from neural.monitoring.alerts import alerts_evaluate
from neural.monitoring.models import AlertRule, RetrainRun
from neural.monitoring.retraining import retrain_policy_set
from tests.monitoring.conftest import serve


@pytest.mark.slow
def test_a_drift_alert_retrains_on_the_latest_data_and_applies_the_promotion_rule(
    version, eager_celery, django_capture_on_commit_callbacks, mailoutbox
):
    model = version.model
    retrain_policy_set(model=model, on_drift=True, tolerance=0.02)
    AlertRule.objects.create(model=model, kind="drift_above", threshold=0.1, consecutive=1, min_count=1)
    shifted, target = generate(pattern="coordination", rows=800, seed=8, drift=True)
    dataset_store_frame(df=shifted, name="coord", target=target, pattern="coordination", source_format="generator")
    serve(version, shifted.iloc[400:])
    with django_capture_on_commit_callbacks(execute=True):
        fired = alerts_evaluate()
    assert [a.rule.kind for a in fired] == ["drift_above"]
    run = RetrainRun.objects.get()
    assert run.reason == f"drift alert {fired[0].pk}"
    assert run.dataset.version == 2 and run.baseline == version
    assert run.candidate is not None and run.candidate.version == version.version + 1
    assert run.holdout_rows > 0 and run.metric == "accuracy"
    assert "tolerance" not in run.rule and "0.02" in run.rule
    model.refresh_from_db()
    active = model.versions.get(is_active=True)
    if run.candidate_value >= run.baseline_value - 0.02:
        assert run.decision == "promoted" and active == run.candidate
    else:
        assert run.decision == "kept" and active == version
