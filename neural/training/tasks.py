"""Celery tasks: take an id, call one service.

The task is acks_late + reject_on_worker_lost (settings): when a worker dies mid-training its
message is delivered again, and the service resumes the session from its last checkpoint once
the dead worker's heartbeat is stale. Until then the session is busy and the task retries.
"""

from __future__ import annotations

from celery import shared_task

from neural.training.crossval import cross_validation_fold_run, cross_validation_folds_recover
from neural.training.ensembles import ensemble_job_settle
from neural.training.heartbeat import worker_name
from neural.training.services import SessionBusy, training_session_run
from neural.training.sweep import training_sessions_sweep
from neural.training.tuning import tuning_job_run, tuning_jobs_settle


@shared_task(bind=True, name="neural.training.tasks.training_session_run_task", max_retries=None)
def training_session_run_task(self, session_id: int) -> str:
    try:
        ran_in = worker_name() or self.request.hostname
        return training_session_run(session_id=session_id, ran_in=ran_in, beat_thread=True).status
    except SessionBusy as exc:
        raise self.retry(countdown=max(1.0, exc.retry_in_s)) from exc


@shared_task(bind=True, name="neural.training.tasks.cross_validation_fold_task")
def cross_validation_fold_task(self, cv_id: int, index: int) -> str:
    """One fold of a cross-validation; the last fold to end writes the summary."""
    ran_in = worker_name() or self.request.hostname
    return cross_validation_fold_run(cv_id=cv_id, index=index, ran_in=ran_in, beat_thread=True).status


@shared_task(name="neural.training.tasks.cross_validation_folds_recover_task")
def cross_validation_folds_recover_task() -> dict:
    """Beat: re-queue (or fail) the cross-validation folds whose worker stopped answering."""
    return cross_validation_folds_recover()


@shared_task(bind=True, name="neural.training.tasks.tuning_job_run_task")
def tuning_job_run_task(self, job_id: int) -> str:
    """One runner of a hyperparameter search: trains trials until none are left to take."""
    return tuning_job_run(job_id=job_id, ran_in=self.request.hostname).status


@shared_task(name="neural.training.tasks.tuning_jobs_settle_task")
def tuning_jobs_settle_task() -> int:
    """Beat: end the searches whose trials all ended, or whose last runner died."""
    return tuning_jobs_settle()


@shared_task(name="neural.training.tasks.training_sessions_sweep_task")
def training_sessions_sweep_task() -> dict:
    """Beat: resume (or fail, or stop) the sessions whose worker stopped answering."""
    return training_sessions_sweep()


@shared_task(name="neural.training.tasks.ensemble_job_settle_task")
def ensemble_job_settle_task(job_id: int) -> str:
    """A member session of an ensemble job finished: combine the members once all have."""
    return ensemble_job_settle(job_id=job_id).status
