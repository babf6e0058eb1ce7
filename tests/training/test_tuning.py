"""Hyperparameter-search jobs at the service level: slots, a runner that dies, the report."""

from __future__ import annotations

import time

import optuna
import pytest

from neural.training.models import TuningJob
from neural.training.tuning import (
    _claim_trial,
    study_storage,
    tuning_job_create,
    tuning_job_settle,
    tuning_jobs_settle,
    tuning_report,
)


def test_slots_are_handed_out_once_each_and_only_while_the_job_runs(trained):
    job = tuning_job_create(user=None, version=trained.model_version, method="random", trials=2, enqueue=False)
    assert _claim_trial(job.pk) is None  # still queued: no runner has started it
    TuningJob.objects.filter(pk=job.pk).update(status=TuningJob.Status.RUNNING)
    assert [_claim_trial(job.pk) for _ in range(3)] == [0, 1, None]


def test_a_trial_whose_runner_stops_beating_is_failed_and_the_search_still_ends(trained, settings):
    settings.TUNING_HEARTBEAT_S = 1
    job = tuning_job_create(user=None, version=trained.model_version, method="random", trials=1, enqueue=False)
    TuningJob.objects.filter(pk=job.pk).update(status=TuningJob.Status.RUNNING)
    assert _claim_trial(job.pk) == 0
    with study_storage() as storage:  # a runner starts its trial, beats once, and dies
        study = optuna.create_study(storage=storage, study_name=job.study_name, direction=job.direction)
        with pytest.warns(UserWarning, match="Heartbeat of storage"):  # optimize() would beat on
            trial = study.ask()
        storage.record_heartbeat(trial._trial_id)
    assert tuning_job_settle(job_id=job.pk).status == "running"  # within the grace period
    time.sleep(3.5)
    assert tuning_jobs_settle() == 1  # what celery beat runs every minute
    job.refresh_from_db()
    assert job.status == "failed" and "its runner stopped answering" in job.error
    report = tuning_report(job=job)
    assert report["counts"]["fail"] == 1 and report["trials"][0]["note"] == "its runner stopped answering"


def test_deleting_the_model_deletes_its_searches_and_their_studies(trained, django_capture_on_commit_callbacks):
    from neural.registry.services import model_delete

    job = tuning_job_create(user=None, version=trained.model_version, method="random", trials=1, enqueue=False)
    with study_storage() as storage:
        optuna.create_study(storage=storage, study_name=job.study_name)
    with django_capture_on_commit_callbacks(execute=True):
        model_delete(model=trained.model_version.model, force=True)
    assert not TuningJob.objects.exists()
    with study_storage() as storage:
        assert job.study_name not in {s.study_name for s in optuna.get_all_study_summaries(storage, False)}


def test_a_search_no_runner_has_started_reports_no_trials(trained):
    job = tuning_job_create(user=None, version=trained.model_version, method="random", trials=2, enqueue=False)
    report = tuning_report(job=job)
    assert report["status"] == "queued" and report["trials"] == [] and report["best"] is None
    assert sum(report["counts"].values()) == 0
