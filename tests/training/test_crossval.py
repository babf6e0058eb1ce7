"""Cross-validation services: a fold claimed once, the summary written when the last fold ends,
a failed fold failing the whole, and the options a model version gives."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

import neural.training.tasks  # noqa: F401 (registers the fold task, as a worker does)
from neural.errors import DataError
from neural.training.crossval import (
    cross_validation_fold_run,
    cross_validation_folds_recover,
    cross_validation_run_here,
    cross_validation_settle,
    cross_validation_start,
)
from neural.training.models import CrossValidation, CrossValidationFold
from photondrift.celery import app as celery_app
from tests.factories import make_dataset


def _start(dataset, **kw) -> CrossValidation:
    kw = {"pattern": "coordination", "folds": 2, "options": {"epochs": 2}, "enqueue": False, **kw}
    return cross_validation_start(user=None, dataset=dataset, **kw)


def test_the_summary_is_written_only_when_the_last_fold_ends(dataset):
    cv = _start(dataset)
    assert cv.status == "queued" and cv.fold_rows.count() == 2
    first = cross_validation_fold_run(cv_id=cv.pk, index=0, ran_in="a")
    cv.refresh_from_db()
    assert first.status == "succeeded" and cv.status == "running" and cv.summary == {}
    assert cross_validation_settle(cv_id=cv.pk).status == "running"  # fold 2 has not ended
    cross_validation_fold_run(cv_id=cv.pk, index=1, ran_in="b")
    cv.refresh_from_db()
    assert cv.status == "succeeded" and len(cv.summary["accuracy"]["values"]) == 2
    assert sorted(cv.fold_rows.values_list("ran_in", flat=True)) == ["a", "b"]


def test_a_redelivered_fold_message_changes_nothing(dataset):
    cv = _start(dataset)
    fold = cross_validation_fold_run(cv_id=cv.pk, index=0, ran_in="a")
    again = cross_validation_fold_run(cv_id=cv.pk, index=0, ran_in="b")
    assert again.ran_in == "a" and again.metrics == fold.metrics and again.finished_at == fold.finished_at


def test_a_failed_fold_fails_the_cross_validation_naming_the_fold(dataset, settings):
    cv = _start(dataset)
    (Path(settings.DATASET_STORAGE_PATH) / dataset.file).unlink()  # the file vanished after the check
    cv = cross_validation_run_here(cv_id=cv.pk)
    assert cv.status == "failed" and cv.error.startswith("fold 1 failed: ")
    assert set(cv.fold_rows.values_list("status", flat=True)) == {"failed"}
    assert cv.summary == {}


def test_a_model_gives_its_options_and_data_set_and_the_flags_override_them(trained):
    version = trained.model_version
    cv = cross_validation_start(user=None, dataset=None, model_name="coord-model", options={"dropout": 0.4},
                                enqueue=False)  # fmt: skip
    assert cv.model_version == version and cv.dataset == version.dataset and cv.pattern == version.model.pattern
    assert cv.config["dropout"] == 0.4 and cv.config["epochs"] == version.config["epochs"]


def test_a_model_and_a_data_set_of_another_task_are_refused(trained):
    other = make_dataset(name="opt", pattern="optimization", rows=200)
    with pytest.raises(DataError) as err:
        cross_validation_start(user=None, dataset=other, model_name="coord-model", enqueue=False)
    assert err.value.field == "training_data"
    assert not CrossValidation.objects.exists()


def _die_while_running(cv, index: int, seconds_ago: int) -> None:
    """Fold ``index`` as a process left it that died mid-fold: running, its heartbeat old."""
    CrossValidationFold.objects.filter(cross_validation=cv, index=index).update(
        status="running",
        claimed_by="gone:1:x",
        ran_in="gone",
        heartbeat_at=timezone.now() - timedelta(seconds=seconds_ago),
    )


def test_a_fold_whose_worker_died_is_sent_again_and_finishes(dataset, settings, django_capture_on_commit_callbacks):
    celery_app.conf.task_always_eager = True
    try:
        cv = _start(dataset)
        cross_validation_fold_run(cv_id=cv.pk, index=0, ran_in="a")
        _die_while_running(cv, 1, seconds_ago=settings.TRAINING_STALE_AFTER_S - 30)
        assert cross_validation_folds_recover() == {"requeued": [], "failed": []}  # still within the grace
        _die_while_running(cv, 1, seconds_ago=settings.TRAINING_STALE_AFTER_S + 1)
        with django_capture_on_commit_callbacks(execute=True):
            outcome = cross_validation_folds_recover()
    finally:
        celery_app.conf.task_always_eager = False
    fold = CrossValidationFold.objects.get(cross_validation=cv, index=1)
    assert outcome == {"requeued": [fold.pk], "failed": []}
    assert fold.status == "succeeded" and fold.attempts == 1 and fold.ran_in != "gone"
    cv.refresh_from_db()
    assert cv.status == "succeeded" and len(cv.summary["accuracy"]["values"]) == 2


def test_a_fold_out_of_attempts_fails_and_fails_its_cross_validation(dataset, settings):
    settings.TRAINING_RESUME_ATTEMPTS = 1
    cv = _start(dataset)
    cross_validation_fold_run(cv_id=cv.pk, index=0, ran_in="a")
    _die_while_running(cv, 1, seconds_ago=settings.TRAINING_STALE_AFTER_S + 1)
    CrossValidationFold.objects.filter(cross_validation=cv, index=1).update(attempts=1)
    fold_id = CrossValidationFold.objects.get(cross_validation=cv, index=1).pk
    assert cross_validation_folds_recover() == {"requeued": [], "failed": [fold_id]}
    cv.refresh_from_db()
    assert cv.status == "failed" and "fold 2 failed: its worker stopped answering" in cv.error
