"""Cross-validation services: a fold claimed once, the summary written when the last fold ends,
a failed fold failing the whole, and the options a model version gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from neural.errors import DataError
from neural.training.crossval import (
    cross_validation_fold_run,
    cross_validation_run_here,
    cross_validation_settle,
    cross_validation_start,
)
from neural.training.models import CrossValidation
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
